import fc from 'fast-check';
import { mapWithConcurrency } from '../../helpers/concurrency';
import { snapshotDatabase } from '../../helpers/database';
import { reportFigure } from '../../helpers/figures';
import { serve } from '../../helpers/http-client';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const LISTS = ['usernames', 'ids', 'emails', 'ldapIds'] as const;
/** With ABAC and LDAP configured, a body is either synced (200) or refused for its shape or size. */
const DOCUMENTED = new Map([
  [200, undefined],
  [400, 'error-invalid-body-params'],
  [413, 'error-payload-too-large'],
]);

const identifier = fc.string({ minLength: 1, maxLength: 40 }).filter((value) => value.trim() !== '');
const list = fc.uniqueArray(identifier, { minLength: 1, maxLength: 100, selector: (value) => value.trim() });
const validBody = fc.record(
  { usernames: list, ids: list, emails: list, ldapIds: list, dryRun: fc.boolean() },
  { requiredKeys: [] },
);

type Body = Record<string, unknown>;
const mutations: Array<(body: Body) => unknown> = [
  (body) => ({ ...body, extra: 1 }),
  (body) => ({ ...body, usernames: Array.from({ length: 101 }, (_, index) => `u${index}`) }),
  (body) => ({ ...body, ids: ['same', 'same'] }),
  (body) => ({ ...body, emails: ['   '] }),
  (body) => ({ ...body, ldapIds: ['x'.repeat(1025)] }),
  (body) => ({ ...body, dryRun: 'true' }),
  (body) => ({ ...body, usernames: [] }),
  (body) => ({ ...body, usernames: 'alice' }),
  (body) => [body],
  () => ({}),
];
const nearValidBody = fc
  .tuple(validBody, fc.integer({ min: 0, max: mutations.length - 1 }))
  .map(([body, index]) => mutations[index]!(body));

const wrongTypes = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(fc.constantFrom(...LISTS, 'dryRun'), fc.jsonValue()),
  fc.record({ usernames: fc.array(fc.jsonValue(), { minLength: 1, maxLength: 5 }) }),
);
const operator = fc.oneof(
  fc.constant({ $ne: null }),
  fc.constant({ $gt: '' }),
  fc.constant({ $regex: '.*' }),
  fc.constant({ $where: 'sleep(1000) || true' }),
  fc.constant({ $in: ['alice', 'bob'] }),
  fc.constant({ $exists: true }),
);
const operatorBodies = fc.oneof(
  fc.tuple(fc.constantFrom(...LISTS), operator).map(([key, value]) => ({ [key]: [value] })),
  fc.tuple(fc.constantFrom(...LISTS), operator).map(([key, value]) => ({ [key]: value })),
  operator.map((value) => ({ $or: [{ usernames: value }] })),
  operator.map((value) => ({ usernames: ['alice'], ...value })),
);
const hugeStrings = fc
  .integer({ min: 1_000, max: 100_000 })
  .map((length) => ({ usernames: ['x'.repeat(length)] }));
const unicode = fc.record({
  usernames: fc.uniqueArray(fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), {
    minLength: 1,
    maxLength: 20,
  }),
});
const prototypeKeys = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype'),
    fc.constantFrom('{"polluted":true}', '{"prototype":{"polluted":true}}', '["alice"]', 'null'),
    fc.boolean(),
  )
  .map(([key, value, nested]) =>
    nested ? `{"usernames":["alice"],"${key}":${value}}` : `{"${key}":${value},"usernames":["alice"]}`,
  );
const deepNesting = fc
  .tuple(fc.integer({ min: 10, max: 50_000 }), fc.boolean())
  .map(([depth, inList]) =>
    inList
      ? `{"usernames":${'['.repeat(depth)}"alice"${']'.repeat(depth)}}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** 10,000 bodies as the text sent on the wire. */
function bodies(): string[] {
  const sample = <T>(arbitrary: fc.Arbitrary<T>, numRuns: number, offset: number) =>
    fc.sample(arbitrary, { numRuns, seed: SEED + offset });
  return [
    ...sample(validBody, 2_000, 1).map((body) => JSON.stringify(body)),
    ...sample(nearValidBody, 2_000, 2).map((body) => JSON.stringify(body)),
    ...sample(wrongTypes, 2_000, 3).map((body) => JSON.stringify(body) ?? ''),
    ...sample(operatorBodies, 1_000, 4).map((body) => JSON.stringify(body)),
    ...sample(hugeStrings, 200, 5).map((body) => JSON.stringify(body)),
    ...sample(unicode, 1_500, 6).map((body) => JSON.stringify(body)),
    ...sample(prototypeKeys, 800, 7),
    ...sample(deepNesting, 500, 8),
  ];
}

describe('fuzzed request bodies', () => {
  let host: TestHost;
  let client: Awaited<ReturnType<typeof serve>>;
  const headers = { ...ADMIN_HEADERS, 'Content-Type': 'application/json' };

  beforeAll(async () => {
    host = await startTestHost();
    client = await serve(host.app);
  });
  afterAll(async () => {
    await client?.close();
    await host?.close();
  });

  it('answers every body with a documented status, never 5xx, writes nothing and stays up', async () => {
    const sent = bodies();
    const raw = fc.sample(fc.uint8Array({ maxLength: 2_000 }), { numRuns: 2_000, seed: SEED + 9 });
    const before = await snapshotDatabase(host.connection);
    const started = Date.now();
    const unexpected: string[] = [];
    const statuses = new Map<number, number>();
    await mapWithConcurrency([...sent, ...raw.map((bytes) => Buffer.from(bytes))], 8, async (body) => {
      const response = await client.post(SYNC_URL, headers, body);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const parsed = JSON.parse(response.body) as { success: boolean; error?: string };
      const documented =
        DOCUMENTED.has(response.status) &&
        (response.status === 200
          ? parsed.success === true
          : parsed.success === false && parsed.error === DOCUMENTED.get(response.status));
      if (!documented && unexpected.length < 5) {
        unexpected.push(`${response.status} ${response.body.slice(0, 200)} <- ${String(body).slice(0, 200)}`);
      }
    });
    const seconds = (Date.now() - started) / 1000;

    expect(unexpected).toEqual([]);
    expect(await snapshotDatabase(host.connection)).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const alive = await client.post(SYNC_URL, headers, JSON.stringify({ usernames: ['nobody'] }));
    expect(alive.status).toBe(200);

    const tried = sent.length + raw.length;
    expect(tried).toBeGreaterThanOrEqual(12_000);
    reportFigure(
      'fuzz',
      `${tried} bodies (${sent.length} JSON, ${raw.length} raw bytes) in ${seconds.toFixed(1)} s, seed ${SEED}; ` +
        `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
  }, 300_000);
});
