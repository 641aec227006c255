import { DeferredWork } from '../../lib/deferred-work';
import { LdapUnavailableError } from '../../lib/errors';
import { silentLogger } from '../../lib/logger';
import type { SyncRequest } from '../../lib/sync/sync-report';
import { ManualClock } from '../helpers/host';
import { MemoryDirectory, memoryEngine } from '../helpers/memory-directory';
import { MemorySyncStore } from '../helpers/memory-sync-store';

// The engine over the in-memory store and an in-memory directory: no server, so each case runs in
// milliseconds. The same behaviour is tested end to end against slapd and MongoDB in the other suites.

function engine(people: Record<string, string[]>, deferredWork?: DeferredWork) {
  const clock = new ManualClock();
  const store = new MemorySyncStore();
  const directory = new MemoryDirectory(people);
  const { service, remover } = memoryEngine(store, directory, clock, deferredWork);
  store.rooms.set('r-sales', {
    _id: 'r-sales',
    name: 'sales',
    usersCount: 3,
    abacAttributes: [{ key: 'department', values: ['sales'] }],
  });
  store.subscriptions.set('s-alice', { rid: 'r-sales', userId: 'u-alice' });
  store.users.set('u-alice', {
    _id: 'u-alice',
    username: 'alice',
    ldap: true,
    abacAttributes: [{ key: 'department', values: ['sales'] }],
    rooms: ['r-sales'],
  });
  return { store, directory, remover, service };
}

const request = (overrides: Partial<SyncRequest> = {}): SyncRequest => ({
  identifiers: { usernames: ['alice'] },
  dryRun: false,
  actor: { type: 'user', _id: 'admin', username: 'root' },
  requestId: 'req-1',
  ...overrides,
});

describe('the sync engine (in memory)', () => {
  it('writes the directory value, evicts from the room it no longer grants, and audits both', async () => {
    const { store, remover, service } = engine({ alice: ['eng'] });
    const report = await service.sync(request());
    expect(report.users).toEqual([
      {
        _id: 'u-alice',
        username: 'alice',
        status: 'updated',
        added: [{ key: 'department', values: ['eng'] }],
        removed: [{ key: 'department', values: ['sales'] }],
        roomsRevoked: [{ _id: 'r-sales', name: 'sales' }],
      },
    ]);
    expect(store.users.get('u-alice')).toMatchObject({
      abacAttributes: [{ key: 'department', values: ['eng'] }],
      rooms: [],
      outbox: {},
    });
    expect(store.rooms.get('r-sales')?.usersCount).toBe(2);
    expect(remover.messages).toEqual([{ rid: 'r-sales', username: 'alice' }]);
    const events = [...store.auditTrail.values()];
    expect(events.map((event) => event.t).sort()).toEqual([
      'abac.action.performed',
      'abac.subject.attribute.changed',
    ]);
    expect(events.every((event) => event.actor._id === 'admin')).toBe(true);
  });

  it('records a scheduled run as the system with its job id', async () => {
    const { store, service } = engine({ alice: ['eng'] });
    await service.sync(request({ actor: { type: 'system', jobId: 'job-1' } }));
    const actors = [...store.auditTrail.values()].map((event) => event.actor);
    expect(actors).toEqual([
      { type: 'system', jobId: 'job-1' },
      { type: 'system', jobId: 'job-1' },
    ]);
  });

  it('runs the same engine over a batch of subjects a job hands it, one result per subject in order', async () => {
    const { store, service } = engine({ alice: ['eng'], bob: ['ops'] });
    store.users.set('u-bob', { _id: 'u-bob', username: 'bob', ldap: true });
    store.users.set('u-local', { _id: 'u-local', username: 'carol' });
    const { subjects } = await store.findSubjects({ ids: ['u-local', 'u-bob', 'u-alice'] });
    const { results } = await service.syncSubjects(subjects, {
      dryRun: false,
      actor: { type: 'system', jobId: 'job-2' },
      requestId: 'job-2',
    });
    expect(results.map(({ _id, status }) => ({ _id, status }))).toEqual(
      subjects.map((subject) => ({
        _id: subject._id,
        status: { 'u-alice': 'updated', 'u-bob': 'updated', 'u-local': 'failed' }[subject._id],
      })),
    );
    expect(store.users.get('u-bob')?.abacAttributes).toEqual([{ key: 'department', values: ['ops'] }]);
  });

  it('evicts a user whose attributes are unchanged, and a dry run reports exactly that while writing nothing', async () => {
    const { store, service } = engine({ alice: ['eng'] });
    store.users.get('u-alice')!.abacAttributes = [{ key: 'department', values: ['eng'] }];
    const expected = [
      {
        _id: 'u-alice',
        username: 'alice',
        status: 'unchanged',
        roomsRevoked: [{ _id: 'r-sales', name: 'sales' }],
      },
    ];
    expect((await service.sync(request({ dryRun: true }))).users).toEqual(expected);
    expect(store.subscriptions.size).toBe(1);
    expect(store.auditTrail.size).toBe(0);
    expect((await service.sync(request())).users).toEqual(expected);
    expect(store.subscriptions.size).toBe(0);
    expect(store.auditTrail.size).toBe(1);
  });

  it('retries a write that lost a race, with the diff from the value it finally replaced', async () => {
    const { store, service } = engine({ alice: ['eng'] });
    let raced = false;
    store.beforeWrite = () => {
      if (raced) return;
      raced = true;
      store.users.get('u-alice')!.abacAttributes = [{ key: 'department', values: ['ops'] }];
    };
    const report = await service.sync(request());
    expect(report.users[0]).toMatchObject({
      status: 'updated',
      removed: [{ key: 'department', values: ['ops'] }],
    });
    expect(store.users.get('u-alice')?.abacAttributes).toEqual([{ key: 'department', values: ['eng'] }]);
    const change = [...store.auditTrail.values()].find(
      (event) => event.t === 'abac.subject.attribute.changed',
    );
    expect(change?.data).toContainEqual({ key: 'removed', value: [{ key: 'department', values: ['ops'] }] });
  });

  it('writes without a claim when nothing changed the user since it was read', async () => {
    const { store, service } = engine({ alice: ['eng'] });
    const report = await service.sync(request());
    expect(report.users[0]).toMatchObject({ status: 'updated', roomsRevoked: [{ _id: 'r-sales' }] });
    expect(store.claimsTaken).toBe(0);
    expect(store.auditTrail.size).toBe(2);
  });

  it('reads which users are held only for those it has something to write', async () => {
    const { store, service } = engine({ alice: ['sales'], bob: ['eng'] });
    store.users.set('u-bob', { _id: 'u-bob', username: 'bob', ldap: true });
    const resync = await service.sync(request());
    expect(resync.users[0]).toMatchObject({ status: 'unchanged' });
    expect(store.claimReads).toEqual([]);
    const both = await service.sync(request({ identifiers: { usernames: ['alice', 'bob'] } }));
    expect(both.users.map((user) => user.status)).toEqual(['unchanged', 'updated']);
    expect(store.claimReads).toEqual([['u-bob']]);
  });

  it('takes the claim when the user joined a room after being read, and evicts from that room too', async () => {
    const { store, remover, service } = engine({ alice: ['eng'] });
    store.rooms.set('r-legal', {
      _id: 'r-legal',
      name: 'legal',
      usersCount: 5,
      abacAttributes: [{ key: 'department', values: ['legal'] }],
    });
    let joined = false;
    store.beforeWrite = () => {
      if (joined) return;
      joined = true;
      store.users.get('u-alice')!.rooms!.push('r-legal');
      store.subscriptions.set('s-alice-legal', { rid: 'r-legal', userId: 'u-alice' });
    };
    const report = await service.sync(request());
    expect(report.users[0]).toMatchObject({
      status: 'updated',
      roomsRevoked: [
        { _id: 'r-sales', name: 'sales' },
        { _id: 'r-legal', name: 'legal' },
      ],
    });
    expect(store.claimsTaken).toBe(1);
    expect(store.users.get('u-alice')).toMatchObject({ rooms: [], outbox: {} });
    expect(remover.messages).toEqual([
      { rid: 'r-sales', username: 'alice' },
      { rid: 'r-legal', username: 'alice' },
    ]);
    const types = [...store.auditTrail.values()].map((event) => event.t).sort();
    expect(types).toEqual([
      'abac.action.performed',
      'abac.action.performed',
      'abac.subject.attribute.changed',
    ]);
  });

  it('reports a user another process holds for the whole wait as a write conflict, and writes nothing', async () => {
    const { store, service } = engine({ alice: ['eng'] });
    store.heldElsewhere.set('u-alice', 'another sync');
    const report = await service.sync(request());
    expect(report.users).toEqual([
      { _id: 'u-alice', username: 'alice', status: 'failed', error: 'error-write-conflict' },
    ]);
    expect(store.users.get('u-alice')?.abacAttributes).toEqual([{ key: 'department', values: ['sales'] }]);
  });

  it('keeps audit events it could not copy in the outbox and copies each once at the next sync', async () => {
    const { store, service } = engine({ alice: ['eng'] });
    store.failAuditCopies = 2;
    await service.sync(request());
    expect(store.auditTrail.size).toBe(0);
    expect(Object.keys(store.users.get('u-alice')?.outbox ?? {})).toHaveLength(2);
    const again = await service.sync(request());
    expect(again.users[0]?.status).toBe('unchanged');
    expect(store.auditTrail.size).toBe(2);
    expect(store.users.get('u-alice')?.outbox).toEqual({});
  });

  it('answers once the audit events are copied when asked to, and empties the outboxes right after', async () => {
    const deferredWork = new DeferredWork(silentLogger);
    const { store, directory, service } = engine({ alice: ['eng'] }, deferredWork);
    let openClearing = () => undefined as void;
    const clearingHeld = new Promise<void>((resolve) => (openClearing = resolve));
    // Only the first clearing is held back.
    store.beforeClear = () => {
      store.beforeClear = undefined;
      return clearingHeld;
    };

    const report = await service.sync(request({ clearOutboxesLater: true }));
    expect(report.users[0]).toMatchObject({ status: 'updated', roomsRevoked: [{ _id: 'r-sales' }] });
    expect(store.auditTrail.size).toBe(2);
    // The answer came while the clearing is still held back.
    expect(Object.keys(store.users.get('u-alice')?.outbox ?? {})).toHaveLength(2);
    expect(deferredWork.size).toBe(1);

    // A sync of the same user meanwhile finds the copied events waiting: it takes the claim and stores
    // only its own event.
    directory.people.alice = ['legal'];
    const again = await service.sync(request({ requestId: 'req-2' }));
    expect(again.users[0]).toMatchObject({
      status: 'updated',
      added: [{ key: 'department', values: ['legal'] }],
    });
    expect(store.claimsTaken).toBe(1);
    expect(store.auditTrail.size).toBe(3);

    openClearing();
    await deferredWork.settled();
    expect(store.users.get('u-alice')?.outbox).toEqual({});
    expect(store.auditTrail.size).toBe(3);
  });

  it('starts the deferred clearing only once the answer is sent', async () => {
    const deferredWork = new DeferredWork(silentLogger);
    const { store, service } = engine({ alice: ['eng'] }, deferredWork);
    let sent!: () => void;
    const answered = new Promise<void>((resolve) => (sent = resolve));
    let clearingStarted = false;
    store.beforeClear = async () => {
      clearingStarted = true;
    };
    await service.sync(request({ clearOutboxesLater: true, answered }));
    for (let tick = 0; tick < 5; tick += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(clearingStarted).toBe(false);
    expect(deferredWork.size).toBe(1);
    sent();
    await deferredWork.settled();
    expect(clearingStarted).toBe(true);
    expect(store.users.get('u-alice')?.outbox).toEqual({});
  });

  it('empties the outboxes before answering when not asked to defer it', async () => {
    const deferredWork = new DeferredWork(silentLogger);
    const { store, service } = engine({ alice: ['eng'] }, deferredWork);
    await service.sync(request());
    expect(deferredWork.size).toBe(0);
    expect(store.users.get('u-alice')?.outbox).toEqual({});
  });

  it('changes nothing when the directory cannot be read', async () => {
    const { store, directory, service } = engine({ alice: ['eng'] });
    directory.down = true;
    const before = JSON.stringify([...store.users.values()]);
    await expect(service.sync(request())).rejects.toBeInstanceOf(LdapUnavailableError);
    expect(JSON.stringify([...store.users.values()])).toBe(before);
    expect(store.subscriptions.size).toBe(1);
  });

  it('changes nothing when it cannot read which users are held', async () => {
    const { store, remover, service } = engine({ alice: ['eng'] });
    store.claimReadsFailWith = new Error('database unreachable');
    const before = JSON.stringify([...store.users.values()]);
    await expect(service.sync(request())).rejects.toThrow('database unreachable');
    expect(JSON.stringify([...store.users.values()])).toBe(before);
    expect(store.subscriptions.size).toBe(1);
    expect(remover.messages).toEqual([]);
    expect(store.auditTrail.size).toBe(0);
  });
});
