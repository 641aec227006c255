import type { ServerEventDocument } from '../../models/server-event';
import type { AbacAttribute } from '../../models/user';
import { IDENTIFIER_LISTS, type Identifiers } from '../../lib/sync/sync-request';
import { RESTORED_FIELD, type RoomMemberRemover, type RoomRemoval } from '../../lib/sync/room-member-remover';
import type { RoomMemberRestorer, RoomRestoration } from '../../lib/sync/room-member-restorer';
import {
  membershipKey,
  type AbacRoom,
  type AuditOutbox,
  type StoredUser,
  type SubjectIdentifiers,
  type ClaimedWork,
  type ConditionalWrite,
  type Outboxes,
  type SubjectLookup,
  type SyncStore,
  type SyncSubject,
  type WriteOutcome,
} from '../../lib/sync/sync-store';
import type { StoredSubscription, UndoRecord } from '../../lib/sync/undo-record';

export interface MemoryUser {
  _id: string;
  username: string;
  active?: boolean;
  ldap?: boolean;
  emails?: string[];
  ldapId?: { id: string; idAttribute?: string };
  abacAttributes?: AbacAttribute[];
  rooms?: string[];
  outbox?: AuditOutbox;
}

export interface MemoryRoom {
  _id: string;
  name: string;
  usersCount: number;
  abacAttributes?: AbacAttribute[];
}

/**
 * The store port in memory, for unit tests of the engine without servers. Same contract as the MongoDB
 * adapter: claims exclude other holders, writes apply only when the stored value is still `before`, the
 * audit is copied once per event id. Tests reach into its maps to set up and to check state, and can make
 * the next writes lose a race or the next audit copy fail.
 */
export class MemorySyncStore implements SyncStore {
  readonly users = new Map<string, MemoryUser>();
  readonly rooms = new Map<string, MemoryRoom>();
  /** Subscriptions by id; fields besides rid and userId are kept as the chat server's own. */
  readonly subscriptions = new Map<string, { rid: string; userId: string; [field: string]: unknown }>();
  readonly auditTrail = new Map<string, ServerEventDocument>();
  /** Undo records by their event's id, with the event's time. */
  readonly undoJournal = new Map<string, UndoRecord & { at: Date }>();
  /** Users claimed outside the engine (by another process), with the holder that claimed them. */
  readonly heldElsewhere = new Map<string, string>();
  /** Called before each conditional write: lets a test change a user as a concurrent writer would. */
  beforeWrite: ((userIds: string[]) => void) | undefined;
  /** Awaited before outboxes are cleared (a test holds the clearing back with it). */
  beforeClear: (() => Promise<void>) | undefined;
  /** Users claimed by the engine so far (a write made without a claim adds none). */
  claimsTaken = 0;
  /** The user ids each read of held claims asked about, in order. */
  readonly claimReads: string[][] = [];
  /** Set: reads of held claims fail with it (the database went away). */
  claimReadsFailWith: Error | undefined;
  /** The next audit copies fail while this is positive. */
  failAuditCopies = 0;
  private readonly claimed = new Set<string>();

  async findSubjects(identifiers: Identifiers): Promise<SubjectLookup> {
    const matches = (
      user: MemoryUser,
    ): Record<(typeof IDENTIFIER_LISTS)[number], (value: string) => boolean> => ({
      ids: (value) => user._id === value,
      usernames: (value) => user.username.toLowerCase() === value.toLowerCase(),
      emails: (value) => (user.emails ?? []).some((email) => email.toLowerCase() === value.toLowerCase()),
      ldapIds: (value) => user.ldapId?.id.toLowerCase() === value.toLowerCase(),
    });
    const active = [...this.users.values()].filter((user) => user.active !== false);
    const found = active.filter((user) =>
      IDENTIFIER_LISTS.some((list) => (identifiers[list] ?? []).some(matches(user)[list])),
    );
    const unmatched = Object.fromEntries(
      IDENTIFIER_LISTS.map((list) => [
        list,
        (identifiers[list] ?? []).filter((value) => !found.some((user) => matches(user)[list](value))),
      ]),
    ) as SubjectLookup['unmatched'];
    return {
      unmatched,
      subjects: found.map(toSubject),
    };
  }

  async countLdapSubjects(): Promise<number> {
    return this.ldapUsers().length;
  }

  async *ldapSubjects(afterUserId: string | undefined, batchSize: number): AsyncGenerator<SyncSubject[]> {
    const users = this.ldapUsers().filter((user) => afterUserId === undefined || user._id > afterUserId);
    for (let start = 0; start < users.length; start += batchSize)
      yield users.slice(start, start + batchSize).map(toSubject);
  }

  async *ldapSubjectIdentifiers(batchSize: number): AsyncGenerator<SubjectIdentifiers[]> {
    for await (const subjects of this.ldapSubjects(undefined, batchSize))
      yield subjects.map(({ _id, username, ldap }) => ({ _id, username, ldap }));
  }

  async ldapIdentifierAttributes(): Promise<string[]> {
    const names = this.ldapUsers().map((user) => user.ldapId?.idAttribute);
    return [...new Set(names.filter((name): name is string => Boolean(name)))];
  }

  private ldapUsers(): MemoryUser[] {
    return [...this.users.values()]
      .filter((user) => user.active !== false && user.ldap === true)
      .sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  }

  async findAbacRooms(roomIds: readonly string[]): Promise<AbacRoom[]> {
    return roomIds.flatMap((id) => {
      const room = this.rooms.get(id);
      return room?.abacAttributes?.length
        ? [{ _id: room._id, name: room.name, abacAttributes: room.abacAttributes }]
        : [];
    });
  }

  async findMemberships(
    pairs: readonly { userId: string; roomId: string }[],
  ): Promise<Map<string, StoredSubscription[]>> {
    const found = new Map<string, StoredSubscription[]>();
    for (const { userId, roomId } of pairs) {
      const whole = [...this.subscriptions]
        .filter(([, s]) => s.rid === roomId && s.userId === userId)
        .map(([_id, { rid, userId: _user, ...own }]) => ({ ...own, _id, rid, u: { _id: userId } }));
      if (whole.length > 0) found.set(membershipKey(roomId, userId), whole);
    }
    return found;
  }

  async runClaimed(userIds: readonly string[], work: ClaimedWork, holder?: string): Promise<string[]> {
    let pending = [...new Set(userIds)];
    // A few attempts stand in for the MongoDB adapter's wait budget: no clock, no sleeping.
    for (let attempt = 0; attempt < 3 && pending.length > 0; attempt += 1) {
      const claimed = pending.filter(
        (id) => (this.heldElsewhere.get(id) ?? holder) === holder && !this.claimed.has(id),
      );
      for (const id of claimed) this.claimed.add(id);
      this.claimsTaken += claimed.length;
      try {
        const { retry } = claimed.length > 0 ? await work(claimed) : { retry: [] };
        pending = pending.filter((id) => !claimed.includes(id) || retry.includes(id));
      } finally {
        for (const id of claimed) this.claimed.delete(id);
      }
    }
    return pending;
  }

  async findClaimed(userIds: readonly string[]): Promise<Set<string>> {
    this.claimReads.push([...userIds]);
    if (this.claimReadsFailWith) throw this.claimReadsFailWith;
    return new Set(userIds.filter((id) => this.heldElsewhere.has(id) || this.claimed.has(id)));
  }

  async readUsers(userIds: readonly string[]): Promise<StoredUser[]> {
    return userIds.flatMap((id) => {
      const user = this.users.get(id);
      return user
        ? [
            {
              _id: id,
              attributes: user.abacAttributes,
              rooms: [...(user.rooms ?? [])],
              roomsAsStored: user.rooms && [...user.rooms],
              outbox: user.outbox,
            },
          ]
        : [];
    });
  }

  async writeIfUnchanged(writes: readonly ConditionalWrite[]): Promise<WriteOutcome> {
    this.beforeWrite?.(writes.map((write) => write.userId));
    const outcome: WriteOutcome = { applied: [], lost: [] };
    for (const write of writes) {
      const user = this.users.get(write.userId);
      const changedSinceRead =
        write.unclaimed !== undefined &&
        (JSON.stringify(user?.rooms) !== JSON.stringify(write.unclaimed.rooms) ||
          Object.keys(user?.outbox ?? {}).length > 0);
      if (!user || JSON.stringify(user.abacAttributes) !== JSON.stringify(write.before) || changedSinceRead) {
        outcome.lost.push(write.userId);
        continue;
      }
      if (write.next !== undefined) user.abacAttributes = write.next.length > 0 ? write.next : undefined;
      user.outbox = { ...user.outbox, ...write.outbox };
      outcome.applied.push(write.userId);
    }
    return outcome;
  }

  async copyAudit(outboxes: Outboxes): Promise<Outboxes> {
    const stored: Outboxes = new Map();
    for (const [userId, outbox] of outboxes) {
      for (const [id, event] of Object.entries(outbox)) {
        if (this.failAuditCopies > 0) {
          this.failAuditCopies -= 1;
          continue;
        }
        const { undo, ...inTrail } = event;
        if (!this.auditTrail.has(id)) this.auditTrail.set(id, inTrail);
        if (undo && !this.undoJournal.has(id)) this.undoJournal.set(id, { ...undo, at: event.ts });
        stored.set(userId, { ...stored.get(userId), [id]: event });
      }
    }
    return stored;
  }

  async clearOutboxes(copied: Outboxes): Promise<void> {
    await this.beforeClear?.();
    for (const [userId, outbox] of copied) {
      const user = this.users.get(userId);
      for (const id of Object.keys(outbox)) if (user?.outbox) delete user.outbox[id];
    }
  }
}

/** Takes users out of rooms in a MemorySyncStore, once per subscription. */
export class MemoryRoomMemberRemover implements RoomMemberRemover {
  readonly messages: Array<{ rid: string; username: string }> = [];

  constructor(private readonly store: MemorySyncStore) {}

  async remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]> {
    const ended: RoomRemoval[] = [];
    for (const removal of removals) {
      const present = removal.subscriptionIds.filter((id) => this.store.subscriptions.delete(id));
      const room = this.store.rooms.get(removal.room._id);
      if (room) room.usersCount -= present.length;
      if (present.length > 0) this.messages.push({ rid: removal.room._id, username: removal.user.username });
      const user = this.store.users.get(removal.user._id);
      if (user) user.rooms = (user.rooms ?? []).filter((id) => id !== removal.room._id);
      if (removal.subscriptionIds.length > 0) ended.push(removal);
    }
    return ended;
  }
}

function toSubject(user: MemoryUser): SyncSubject {
  return {
    _id: user._id,
    username: user.username,
    emails: user.emails ?? [],
    storedAttributes: user.abacAttributes ?? [],
    rooms: [...(user.rooms ?? [])],
    ldap: user.ldapId ? { id: user.ldapId.id, idAttribute: user.ldapId.idAttribute } : undefined,
    fromLdap: user.ldap === true,
    outbox: user.outbox,
    asStored: { attributes: user.abacAttributes, rooms: user.rooms ? [...user.rooms] : undefined },
  };
}

/** Gives memberships back in a MemorySyncStore, each once (the same contract as the MongoDB restorer). */
export class MemoryRoomMemberRestorer implements RoomMemberRestorer {
  readonly messages: Array<{ rid: string; username: string; by: string }> = [];
  private readonly counted = new Set<string>();

  constructor(private readonly store: MemorySyncStore) {}

  async restore(restorations: readonly RoomRestoration[]): Promise<RoomRestoration[]> {
    const restored: RoomRestoration[] = [];
    for (const restoration of restorations) {
      const { user, room, subscription, restoreId, actor } = restoration;
      const stored = this.store.rooms.get(room._id);
      const other = [...this.store.subscriptions].some(
        ([id, held]) => id !== subscription._id && held.rid === room._id && held.userId === user._id,
      );
      const held = this.store.subscriptions.get(subscription._id);
      if (!stored || other || (held && held[RESTORED_FIELD] !== restoreId)) continue;
      const { _id, rid, u, ...own } = subscription;
      this.store.subscriptions.set(_id, { ...own, rid, userId: u._id, [RESTORED_FIELD]: restoreId });
      if (!this.counted.has(restoreId)) {
        this.counted.add(restoreId);
        stored.usersCount += 1;
        this.messages.push({ rid, username: user.username, by: actor.username });
      }
      const member = this.store.users.get(user._id);
      if (member && !(member.rooms ?? []).includes(rid)) member.rooms = [...(member.rooms ?? []), rid];
      restored.push(restoration);
    }
    return restored;
  }
}
