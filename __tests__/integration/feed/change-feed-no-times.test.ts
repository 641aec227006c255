import request from 'supertest';
import { ADMIN_HEADERS, SYNC_URL, setSettings, startTestHost, type TestHost } from '../../helpers/host';
import { recordingLogger } from '../../helpers/recording-logger';
import { SecondsDirectory } from '../../helpers/seconds-directory';
import { within } from '../../helpers/within';

// A directory whose entries show the sync account no change time (an ACL hides modifyTimestamp, or a
// server that keeps none): the feed has nowhere to start. It says so, instead of "starting" for ever.

describe('the changed-entries feed on a directory that shows no change time', () => {
  let directory: SecondsDirectory;
  let host: TestHost;
  const { logger, lines } = recordingLogger();
  const feed = async () => (await request(host.app).get(`${SYNC_URL}/feed`).set(ADMIN_HEADERS)).body.feed;

  beforeAll(async () => {
    directory = await SecondsDirectory.start();
    directory.put('alice', { departmentNumber: ['eng'] });
    host = await startTestHost({ seedSettings: false, settingsCacheTtlMs: 0, logger });
    await setSettings(host.models, {
      ...directory.hostSettings(),
      ABAC_Sync_Change_Feed_Interval_Seconds: 1,
    });
  }, 30_000);
  afterAll(async () => {
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
    await host?.close();
    await directory?.close();
  });

  it('reports failing with error-feed-no-change-times, logged as a warning, and starts once times show', async () => {
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: true });
    await within('the feed failing', 10_000, async () => (await feed())?.state === 'failing');
    expect(await feed()).toMatchObject({
      state: 'failing',
      error: { code: 'error-feed-no-change-times' },
    });
    expect((await feed()).watermark).toBeUndefined();
    expect(
      lines.some(
        (line) =>
          line.level === 'warn' && (line.fields as { code?: string }).code === 'error-feed-no-change-times',
      ),
    ).toBe(true);
    expect(lines.filter((line) => line.message.startsWith('change feed started'))).toEqual([]);

    directory.put('alice', { departmentNumber: ['eng'] }, '20261207120000Z');
    await within('the feed following', 15_000, async () => (await feed())?.state === 'following');
    expect((await feed()).watermark).toBe('20261207120000Z');
  }, 60_000);
});
