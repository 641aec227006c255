import type { AbacAttribute } from './abac-attribute';
import type { AuditContext, AuditEvents } from './audit-events';
import type { Clock } from '../clock';
import type { DeferredWork } from '../deferred-work';
import { addToGroup } from '../group';
import { PhaseTimer } from './phase-timer';
import {
  decideWrite,
  markMissing,
  markStale,
  unclaimedUsers,
  withRoomsAdded,
  writableUnclaimed,
  type Removal,
} from './plan-decisions';
import { evictionKey, type RoomMemberRemover } from './room-member-remover';
import type { RoomMemberRestorer } from './room-member-restorer';
import { begunRestorations } from './restorations';
import { identity, roomsToLeave, withRoomsRevoked, type KnownRooms, type Plan } from './sync-plan';
import type { SyncRequest } from './sync-report';
import {
  membershipKey,
  type AuditOutbox,
  type StoredUser,
  type ConditionalWrite,
  type Outboxes,
  type SyncStore,
} from './sync-store';

export interface PlanApplierPorts {
  store: SyncStore;
  memberRemover: RoomMemberRemover;
  memberRestorer: RoomMemberRestorer;
  audit: AuditEvents;
  clock: Clock;
  /** Where work that may finish after the answer goes (see `clearOutboxesLater`); absent: none does. */
  deferredWork?: DeferredWork;
}

/** Who a write is made for, as the audit records it, and where clearing the outboxes is deferred to. */
interface AuditSteps {
  context: AuditContext;
  /** Undefined: the outboxes are cleared before the apply resolves. */
  clearOutboxesIn: DeferredWork | undefined;
  /** When the deferred clearing may start (the caller's answer sent); undefined: at once. */
  clearOutboxesAfter?: Promise<unknown>;
}

/** Adds the rooms not known yet to `known` in one query (null for a room that is not ABAC-managed). */
export async function lookUpRooms(store: SyncStore, roomIds: string[], known: KnownRooms): Promise<void> {
  const unknown = [...new Set(roomIds)].filter((roomId) => !known.has(roomId));
  if (unknown.length === 0) return;
  const found = await store.findAbacRooms(unknown);
  for (const roomId of unknown) known.set(roomId, null);
  for (const room of found) known.set(room._id, room);
}

/**
 * The writing half of a sync: applies plans to the users, without claims where nothing can have changed
 * them, under their claims otherwise; then evicts and audits through each user's outbox. Every step can
 * run again after a fault and completes what is missing.
 */
export class PlanApplier {
  constructor(private readonly ports: PlanApplierPorts) {}

  /**
   * Applies plans that need their user's claim (see needsClaim); each plan's result becomes what was done.
   * The value re-read under the claim decides the diff, so a plan made earlier never overwrites a newer value
   * with an older one's diff. A plan with `reviewedBefore` (a staged plan of a run) is skipped and marked
   * `stale` when the user holds neither that value nor `next`.
   */
  async apply(
    plans: readonly (Plan & { next: AbacAttribute[] })[],
    rooms: KnownRooms,
    run: Pick<SyncRequest, 'actor' | 'requestId' | 'reason'> & {
      claimHolder?: string;
      reviewedJobId?: string;
      /** Applying an undo's plan: the change set it takes back. */
      undoes?: string;
      /**
       * Writes without claims first, for every user whose plan allows it (see `writableUnclaimed`) and
       * whom no other sync holds; the rest, and every such write that finds the user changed, go through
       * the claims. Without it, every write is made under its user's claim.
       */
      writeUnclaimed?: boolean;
      /**
       * Resolves once the audit events are copied, and removes them from the outboxes afterwards, tracked
       * by `deferredWork`: the caller's answer does not wait for that last write. Until it lands, a sync of
       * such a user takes its claim and finds the events copied already.
       */
      clearOutboxesLater?: boolean;
      /**
       * Where the outboxes' clearing is deferred to instead (a run's own, which it waits for before it ends):
       * the apply resolves once the events are copied, as with `clearOutboxesLater`.
       */
      clearOutboxesIn?: DeferredWork;
      /** When the deferred clearing may start (see SyncRequest's `answered`). */
      answered?: Promise<unknown>;
    },
    timer = new PhaseTimer(),
  ): Promise<void> {
    if (plans.length === 0) return;
    const context: AuditContext = {
      actor: run.actor,
      requestId: run.requestId,
      ...(run.reviewedJobId ? { reviewedJobId: run.reviewedJobId } : {}),
      ...(run.undoes ? { undoes: run.undoes } : {}),
      ...(run.reason ? { reason: run.reason } : {}),
    };
    const steps: AuditSteps = {
      context,
      clearOutboxesIn: run.clearOutboxesIn ?? (run.clearOutboxesLater ? this.ports.deferredWork : undefined),
      ...(run.answered ? { clearOutboxesAfter: run.answered } : {}),
    };
    let claimNeeded: readonly (Plan & { next: AbacAttribute[] })[] = plans;
    const candidates = run.writeUnclaimed ? plans.filter(writableUnclaimed) : [];
    if (candidates.length > 0) {
      // Which of them another sync holds is asked only now that there is something to write, and only
      // about them (a re-sync that changes nothing sends no command for claims); their writes are prepared
      // meanwhile.
      const held = this.ports.store.findClaimed(candidates.map((plan) => plan.subject._id));
      // Awaited before the writes; this only keeps a failure from going unhandled if preparing fails first.
      held.catch(() => undefined);
      const { retry } = await timer.time('writes', () =>
        this.applyAsRead(candidates, unclaimedUsers(candidates), rooms, steps, timer, {
          kind: 'unclaimed',
          heldElsewhere: held,
        }),
      );
      const tried = new Set(candidates);
      const again = new Set(retry);
      claimNeeded = plans.filter((plan) => !tried.has(plan) || again.has(plan.subject._id));
    }
    const claimedPlans = new Map(claimNeeded.map((plan) => [plan.subject._id, plan] as const));
    if (claimedPlans.size === 0) return;
    const neverClaimed = await timer.time('writes', () =>
      this.ports.store.runClaimed(
        [...claimedPlans.keys()],
        (claimed) =>
          this.applyClaimed(
            claimed.map((userId) => claimedPlans.get(userId)!),
            rooms,
            steps,
            timer,
          ),
        run.claimHolder,
      ),
    );
    for (const userId of neverClaimed) {
      const plan = claimedPlans.get(userId)!;
      plan.result = { ...identity(plan.subject), status: 'failed', error: 'error-write-conflict' };
    }
  }

  /**
   * The work done while the users are claimed, in an order that a fault at any step leaves for the next
   * sync to complete: re-read; write attributes and audit events together (conditionally); evict; copy the
   * audit events out of the outboxes. Users whose write lost a race are handed back to be retried.
   */
  private async applyClaimed(
    plans: Plan[],
    rooms: KnownRooms,
    steps: AuditSteps,
    timer: PhaseTimer,
  ): Promise<{ retry: string[] }> {
    const current = new Map(
      (await this.ports.store.readUsers(plans.map((plan) => plan.subject._id))).map((user) => [
        user._id,
        user,
      ]),
    );
    return this.applyAsRead(plans, current, rooms, steps, timer, { kind: 'claimed' });
  }

  /**
   * Applies plans against the users as read, in steps that each may run again: mark stale plans, find the
   * memberships to end, decide each user's write, write, evict, audit. `mode` says how the users were read:
   * under their claims (re-read), or without claims (as first read), when every write is conditioned on
   * that whole state and a user another sync holds, or with nothing to write, is handed back for the claims.
   */
  private async applyAsRead(
    plans: Plan[],
    current: ReadonlyMap<string, StoredUser>,
    rooms: KnownRooms,
    steps: AuditSteps,
    timer: PhaseTimer,
    mode: ReadMode,
  ): Promise<{ retry: string[] }> {
    markStale(plans, current);
    markMissing(plans, current);
    const present = plans.filter((plan) => current.has(plan.subject._id) && !plan.stale);
    // Restores an earlier write began are completed first, so the rooms they give back are judged below
    // like any other: a user who no longer satisfies one leaves it again in this same sync.
    const completed = await this.restore(present, current, (userId) => current.get(userId)?.outbox);
    const users = withRoomsAdded(current, completed);
    const removalsByUser = await this.removalsOf(present, users, rooms);
    const decided = present.map((plan) => ({
      plan,
      ...decideWrite(
        plan,
        users.get(plan.subject._id)!,
        removalsByUser.get(plan.subject._id) ?? [],
        rooms,
        this.ports.audit,
        steps.context,
      ),
    }));
    for (const { plan, result } of decided) plan.result = result;
    const handedBack = await handedBackOf(decided, mode);
    const { lost } = await this.ports.store.writeIfUnchanged(
      decided.flatMap(({ plan, write }) =>
        !write || handedBack.has(write.userId)
          ? []
          : [
              mode.kind === 'unclaimed'
                ? { ...write, unclaimed: { rooms: plan.subject.asStored?.rooms } }
                : write,
            ],
      ),
      new Date(this.ports.clock.now()),
    );
    const retry = new Set([...lost, ...handedBack]);
    const done = decided.filter(({ plan }) => !retry.has(plan.subject._id));
    await this.evict(
      done.map(({ plan }) => plan),
      removalsByUser,
      timer,
    );
    const begunNow = new Map(
      done.map(({ plan, outbox }) => {
        const earlier = users.get(plan.subject._id)?.outbox ?? {};
        return [plan.subject._id, Object.fromEntries(Object.entries(outbox).filter(([id]) => !earlier[id]))];
      }),
    );
    const restored = await this.restore(
      done.map(({ plan }) => plan),
      users,
      (userId) => begunNow.get(userId),
    );
    for (const { plan } of done) {
      const rooms = [...(completed.get(plan.subject._id) ?? []), ...(restored.get(plan.subject._id) ?? [])];
      if (rooms.length > 0) plan.result = { ...plan.result, roomsRestored: rooms };
    }
    await this.audit(new Map(done.map(({ plan, outbox }) => [plan.subject._id, outbox])), steps, timer);
    return { retry: [...retry] };
  }

  /** The subscriptions to end, per user: the ABAC rooms each user is listed in and no longer satisfies. */
  private async removalsOf(
    present: readonly Plan[],
    current: ReadonlyMap<string, StoredUser>,
    rooms: KnownRooms,
  ): Promise<Map<string, Removal[]>> {
    const { store } = this.ports;
    // Rooms joined since the sync first read the users are looked up now, with the rooms to give back.
    await lookUpRooms(
      store,
      present.flatMap((plan) => [
        ...(current.get(plan.subject._id)?.rooms ?? []),
        ...(plan.restore ?? []).map(({ room }) => room._id),
      ]),
      rooms,
    );
    const leaving = present.flatMap((plan) => {
      const user = current.get(plan.subject._id)!;
      return roomsToLeave(user.rooms, plan.next ?? [], rooms, user.outbox).map((room) => ({
        user: identity(plan.subject),
        room: { _id: room._id, name: room.name },
      }));
    });
    const subscriptions = await store.findMemberships(
      leaving.map(({ user, room }) => ({ userId: user._id, roomId: room._id })),
    );
    const removalsByUser = new Map<string, Removal[]>();
    for (const removal of leaving) {
      const ended = subscriptions.get(membershipKey(removal.room._id, removal.user._id)) ?? [];
      addToGroup(removalsByUser, removal.user._id, {
        ...removal,
        subscriptionIds: ended.map(({ _id }) => _id),
        evictionKeys: ended.map(evictionKey),
        subscriptions: ended,
      });
    }
    return removalsByUser;
  }

  /** Ends the memberships of the users written, and reports on each plan the rooms it left. */
  private async evict(
    done: readonly Plan[],
    removalsByUser: ReadonlyMap<string, Removal[]>,
    timer: PhaseTimer,
  ): Promise<void> {
    const removed = await timer.time('eviction', () =>
      this.ports.memberRemover.remove(done.flatMap((plan) => removalsByUser.get(plan.subject._id) ?? [])),
    );
    const revokedByUser = new Map<string, { _id: string; name: string }[]>();
    for (const { user, room } of removed) addToGroup(revokedByUser, user._id, room);
    for (const plan of done)
      plan.result = withRoomsRevoked(plan.result, revokedByUser.get(plan.subject._id) ?? []);
  }

  /** Completes the restores `outboxOf` holds for these users; resolves with the rooms given back, by user. */
  private async restore(
    plans: readonly Plan[],
    users: ReadonlyMap<string, StoredUser>,
    outboxOf: (userId: string) => AuditOutbox | undefined,
  ): Promise<Map<string, { _id: string; name: string }[]>> {
    const begun = plans.flatMap((plan) =>
      users.has(plan.subject._id)
        ? begunRestorations(identity(plan.subject), outboxOf(plan.subject._id))
        : [],
    );
    const restoredByUser = new Map<string, { _id: string; name: string }[]>();
    if (begun.length === 0) return restoredByUser;
    for (const { user, room } of await this.ports.memberRestorer.restore(begun))
      addToGroup(restoredByUser, user._id, { _id: room._id, name: room.name });
    return restoredByUser;
  }

  /** Copies the users' audit events out of their outboxes, then clears them (now, or deferred). */
  private async audit(
    outboxes: Outboxes,
    { context, clearOutboxesIn, clearOutboxesAfter }: AuditSteps,
    timer: PhaseTimer,
  ) {
    const { store } = this.ports;
    const copied = await timer.time('audit', () => store.copyAudit(outboxes, context.requestId));
    if (copied.size === 0) return;
    const clear = () => store.clearOutboxes(copied);
    if (clearOutboxesIn)
      await clearOutboxesIn.defer(
        'clearing audit outboxes',
        { requestId: context.requestId },
        clear,
        clearOutboxesAfter,
      );
    else await timer.time('audit', clear);
  }
}

/** How the users were read: re-read under their claims, or as first read (then which others hold). */
type ReadMode = { kind: 'claimed' } | { kind: 'unclaimed'; heldElsewhere: Promise<ReadonlySet<string>> };

/**
 * The users handed back for the claims: none under claims; without claims, those with nothing to write
 * (nothing to condition the room removals on) and those another sync holds.
 */
async function handedBackOf(
  decided: readonly { plan: Plan; write: ConditionalWrite | undefined }[],
  mode: ReadMode,
): Promise<Set<string>> {
  if (mode.kind === 'claimed') return new Set();
  const held = await mode.heldElsewhere;
  return new Set(
    decided
      .filter(({ plan, write }) => !write || held.has(plan.subject._id))
      .map(({ plan }) => plan.subject._id),
  );
}
