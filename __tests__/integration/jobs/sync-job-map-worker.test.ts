import { recordingLogger } from '../../helpers/recording-logger';
import { setSettings, startTestHost, type TestHost } from '../../helpers/host';
import { FAST_RUNNER, startRun, waitForEnd } from '../../helpers/jobs';

/**
 * The map of a run reading the whole subtree lives in a worker thread whose heap the module limits, on the
 * real slapd and MongoDB-wire server: the run's result is the same as in the host's thread, and a map that
 * outgrows its heap makes the run look its users up instead of failing.
 */
describe('a run keeping its directory map in a worker thread', () => {
  const users = [
    { _id: 'u-alice', username: 'alice', active: true, ldap: true },
    { _id: 'u-carol', username: 'carol', active: true, ldap: true },
    { _id: 'u-ghost', username: 'ghost', active: true, ldap: true },
  ];

  async function runOn(mapHeapLimitMb: number | false, settings: Record<string, unknown> = {}) {
    const { logger, lines } = recordingLogger();
    const host: TestHost = await startTestHost({ logger, jobRunner: { ...FAST_RUNNER, mapHeapLimitMb } });
    try {
      await setSettings(host.models, settings);
      await host.models.users.create(users);
      const job = await waitForEnd(host.app, (await startRun(host.app))._id);
      const read = lines.find((line) => line.message === 'directory-wide sync run: directory read');
      const outgrown = lines.find((line) => line.message.startsWith('the directory map outgrew'));
      return { job, heldIn: (read?.fields as { mapHeldIn?: string } | undefined)?.mapHeldIn, outgrown };
    } finally {
      await host.close();
    }
  }

  it('plans the same in a worker thread as in the host thread', async () => {
    const inWorker = await runOn(512);
    const inHost = await runOn(false);
    expect(inWorker.heldIn).toBe('a worker thread');
    expect(inHost.heldIn).toBe('the host thread');
    expect(inWorker.job.state).toBe('completed');
    expect(inWorker.job.summary).toEqual(inHost.job.summary);
    expect(inWorker.job.summary).toMatchObject({ updated: 2, notFoundInLdap: 1 });
  });

  it('fails as the host thread would when the worker cannot reach the directory, changing nothing', async () => {
    // Nothing listens on port 1 of the loopback: the worker's session is refused.
    const refused = { LDAP_Port: 1, LDAP_Connect_Timeout: 1000 };
    const inWorker = await runOn(512, refused);
    const inHost = await runOn(false, refused);
    expect(inWorker.job).toMatchObject({ state: 'failed', error: { code: 'error-ldap-unavailable' } });
    expect(inWorker.job.error).toEqual(inHost.job.error);
    expect(inWorker.job.summary).toEqual(inHost.job.summary);
  });

  // 2 MiB: here even the worker's start outgrows it, which the run meets the same way.
  it('looks the users up when the map outgrows the heap it was given', async () => {
    const starved = await runOn(2);
    expect(starved.outgrown).toBeDefined();
    expect(starved.heldIn).toBeUndefined();
    expect(starved.job.state).toBe('completed');
    expect(starved.job.summary).toMatchObject({ updated: 2, notFoundInLdap: 1 });
  });
});
