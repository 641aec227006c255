import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../harness/test-servers';
import { silentLogger } from '../../lib/logger';
import { createModels } from '../../models';
import { runCli } from '../../app/cli/main';
import { startDemo, type DemoHost } from '../../demo/demo-host';

interface SyncBody {
  summary: Record<string, number>;
  users: object[];
}

// `npm start` runs startDemo; this runs the same host on the test MongoDB and calls it as the printed curl does.
describe('the demo host', () => {
  const dbName = `t_demo_${randomBytes(4).toString('hex')}`;
  let demo: DemoHost | undefined;
  let inspector: Connection;
  /** The printed curl's sync, and bob's subscription to engineering as it was before it. */
  let curlSync: { requestId: string; bobInEngineering: Record<string, unknown> } | undefined;

  const callExample = (body: object = demo!.exampleBody) =>
    fetch(demo!.syncUrl, {
      method: 'POST',
      headers: { ...demo!.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    demo = await startDemo({ mongoUri: testServers().mongo.uri, dbName, port: 0, logger: silentLogger });
    inspector = await mongoose.createConnection(testServers().mongo.uri, { dbName }).asPromise();
  });
  afterAll(async () => {
    await demo?.stop();
    await inspector?.dropDatabase();
    await inspector?.close();
  });

  it('previews with dryRun, then syncs and evicts bob from the engineering room', async () => {
    const models = createModels(inspector);
    const preview = await callExample({ ...demo!.exampleBody, dryRun: true });
    expect(preview.status).toBe(200);
    expect(((await preview.json()) as SyncBody).summary).toMatchObject({ updated: 3, roomsRevoked: 1 });
    expect(await models.subscriptions.countDocuments({ rid: 'demo-engineering' })).toBe(2);

    const bobInEngineering = await models.subscriptions.collection.findOne({
      rid: 'demo-engineering',
      'u._id': 'demo-bob',
    });
    const response = await callExample();
    expect(response.status).toBe(200);
    curlSync = { requestId: response.headers.get('x-request-id')!, bobInEngineering: bobInEngineering! };
    const body = (await response.json()) as SyncBody;
    expect(body.summary).toEqual({
      requested: 3,
      matched: 3,
      updated: 3,
      cleared: 0,
      unchanged: 0,
      notFoundInLdap: 0,
      failed: 0,
      roomsRevoked: 1,
    });
    expect(body.users[1]).toMatchObject({
      username: 'bob',
      removed: [{ key: 'department', values: ['engineering'] }],
      roomsRevoked: [{ _id: 'demo-engineering', name: 'engineering' }],
    });
    expect(await models.subscriptions.exists({ rid: 'demo-engineering', 'u._id': 'demo-bob' })).toBeNull();
    expect((await models.rooms.findById('demo-engineering').lean())?.usersCount).toBe(1);
    expect((await models.users.findById('demo-carol').lean())?.abacAttributes).toEqual([
      { key: 'department', values: ['engineering', 'security'] },
      { key: 'employeeType', values: ['contractor'] },
    ]);

    const again = await callExample();
    expect(((await again.json()) as SyncBody).summary).toMatchObject({
      unchanged: 3,
      updated: 0,
      roomsRevoked: 0,
    });
  });

  it('runs a directory-wide sync as the printed curl starts it, and reports it on the jobs route', async () => {
    const started = await fetch(`${demo!.syncUrl}/jobs`, { method: 'POST', headers: demo!.headers });
    expect(started.status).toBe(202);
    const { job } = (await started.json()) as { job: { _id: string; state: string } };
    let current = job;
    for (let polls = 0; ['queued', 'running'].includes(current.state); polls += 1) {
      if (polls > 200) throw new Error(`the run is still ${current.state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const read = await fetch(`${demo!.syncUrl}/jobs/${job._id}`, { headers: demo!.headers });
      current = ((await read.json()) as { job: typeof job }).job;
    }
    // Everything was synced by the example above: the run finds the demo's users unchanged. The demo admin
    // is a local account, not a directory user the run would report as not found.
    expect(current).toMatchObject({
      state: 'completed',
      summary: { matched: 3, updated: 0, cleared: 0, failed: 0, notFoundInLdap: 0 },
    });
    const list = await fetch(`${demo!.syncUrl}/jobs`, { headers: demo!.headers });
    expect(((await list.json()) as { jobs: Array<{ _id: string }> }).jobs[0]?._id).toBe(job._id);

    // The banner's command line reaches the same database: it lists this run.
    expect(demo!.cliDatabase).toBe(`--db ${dbName}`);
    let printed = '';
    const code = await runCli(['jobs', '--json', ...demo!.cliDatabase.split(' ')], {
      stdout: { write: (text: string) => (printed += text) } as unknown as NodeJS.WriteStream,
      stderr: process.stderr,
      env: { MONGODB_URI: testServers().mongo.uri },
      onInterrupt: () => undefined,
    });
    expect(code).toBe(0);
    expect((JSON.parse(printed) as Array<{ _id: string }>)[0]?._id).toBe(job._id);
  });

  it("undoes the curl's sync: bob gets engineering back with the same subscription, counted once", async () => {
    const models = createModels(inspector);
    const before = await models.rooms.findById('demo-engineering').lean();
    const follow = async (jobId: string) => {
      for (let polls = 0; ; polls += 1) {
        const read = await fetch(`${demo!.syncUrl}/jobs/${jobId}`, { headers: demo!.headers });
        const { job } = (await read.json()) as { job: { state: string; summary: Record<string, number> } };
        if (!['queued', 'running'].includes(job.state)) return job;
        if (polls > 200) throw new Error(`run ${jobId} is still ${job.state}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const post = (path: string, body: object) =>
      fetch(`${demo!.syncUrl}${path}`, {
        method: 'POST',
        headers: { ...demo!.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const planned = await post('/undo', { requestId: curlSync!.requestId });
    expect(planned.status).toBe(202);
    const plan = ((await planned.json()) as { job: { _id: string } }).job;
    expect(await follow(plan._id)).toMatchObject({
      state: 'completed',
      summary: { updated: 2, cleared: 1, roomsRestored: 1 },
    });
    const applying = ((await (await post(`/jobs/${plan._id}/apply`, {})).json()) as { job: { _id: string } })
      .job;
    expect(await follow(applying._id)).toMatchObject({ state: 'completed', summary: { roomsRestored: 1 } });

    const restored = await models.subscriptions.collection.findOne({
      _id: curlSync!.bobInEngineering._id as never,
    });
    expect(restored).toEqual({ ...curlSync!.bobInEngineering, __abacRestored: expect.any(String) });
    expect((await models.rooms.findById('demo-engineering').lean())?.usersCount).toBe(
      (before?.usersCount ?? 0) + 1,
    );
    expect((await models.users.findById('demo-bob').lean())?.__rooms).toContain('demo-engineering');
    expect(
      await models.serverEvents.countDocuments({ 'data.key': 'undoes', 'data.value': curlSync!.requestId }),
    ).toBe(3 + 1);

    // The example again puts the demo back in step with its directory for the cases below.
    expect(((await (await callExample()).json()) as SyncBody).summary).toMatchObject({
      updated: 3,
      roomsRevoked: 1,
    });
  });

  it('follows the changed-entries feed once it is switched on: its directory carries change times', async () => {
    const models = createModels(inspector);
    await models.settings.bulkWrite(
      Object.entries({ ABAC_Sync_Change_Feed_Enabled: true, ABAC_Sync_Change_Feed_Interval_Seconds: 1 }).map(
        ([_id, value]) => ({
          updateOne: { filter: { _id }, update: { $set: { value, _updatedAt: new Date() } }, upsert: true },
        }),
      ),
    );
    try {
      const deadline = Date.now() + 20_000;
      let feed: { state: string; watermark?: string } = { state: 'unread' };
      while (feed.state !== 'following') {
        if (Date.now() > deadline) throw new Error(`the demo's feed is ${JSON.stringify(feed)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const read = await fetch(`${demo!.syncUrl}/feed`, { headers: demo!.headers });
        feed = ((await read.json()) as { feed: typeof feed }).feed;
      }
      expect(feed.watermark).toMatch(/^\d{14}Z$/);
    } finally {
      await models.settings.updateOne(
        { _id: 'ABAC_Sync_Change_Feed_Enabled' },
        { $set: { value: false, _updatedAt: new Date() } },
      );
    }
  }, 30_000);

  it('answers a wrong token with 401 like any host would', async () => {
    const response = await fetch(demo!.syncUrl, {
      method: 'POST',
      headers: { ...demo!.headers, 'X-Auth-Token': 'wrong', 'Content-Type': 'application/json' },
      body: JSON.stringify(demo!.exampleBody),
    });
    expect(response.status).toBe(401);
  });

  it('serves Prometheus metrics at /metrics, the syncs above included', async () => {
    const response = await fetch(demo!.metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^abac_ldap_sync_requests_total\{outcome="completed"\} [1-9]/m);
    expect(text).toMatch(/^abac_ldap_sync_evictions_total [1-9]/m);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('stops the host it started', async () => {
    const url = demo!.syncUrl;
    await demo!.stop();
    demo = undefined;
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
  });
});
