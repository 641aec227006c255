import type { RoomDocument, RoomModel } from '../models/room';
import type { AbacAttribute, UserModel } from '../models/user';
import type { WriteClaimModel } from '../models/write-claim';
import {
  diffAttributes,
  mapEntry,
  sameAttributes,
  satisfies,
  type AttributeMapping,
} from './attribute-mapping';
import { MappingMatchesNothingError } from './errors';
import { writeAttributes, type PlannedWrite, type WriteOutcome } from './attribute-writer';
import type { AuditEvent, AuditLog } from './audit-log';
import type { Clock } from './clock';
import { lookUpEntries, type EntryMatch } from './entry-lookup';
import type { Directory, DirectoryStats } from './ldap/directory';
import type { Logger } from './logger';
import type { SyncMetrics } from './metrics';
import { PhaseTimer } from './phase-timer';
import type { RoomMemberRemover, RoomRemoval } from './room-member-remover';
import type { SettingsSource } from './settings';
import { syncConfiguration } from './sync-configuration';
import type { SyncReport, SyncRequest, SyncSummary, UserSyncResult, UsersSyncService } from './sync-report';
import { findSubjects, type SyncSubject } from './user-lookup';
import { addToGroup } from './group';

export interface AbacLdapSyncServicePorts {
  users: UserModel;
  writeClaims: WriteClaimModel;
  rooms: RoomModel;
  settings: SettingsSource;
  directory: Directory;
  memberRemover: RoomMemberRemover;
  audit: AuditLog;
  logger: Logger;
  metrics: SyncMetrics;
  clock: Clock;
}

/** ABAC-managed rooms by id; null marks a room looked up that is not ABAC-managed (or does not exist). */
type KnownRooms = Map<string, RoomDocument | null>;

/** A user the writer has just written, with the rooms it was in when read under the claim. */
interface WrittenPlan {
  item: Plan;
  memberOf: string[];
}

/** What the sync decided for one user before writing anything. */
interface Plan {
  subject: SyncSubject;
  result: UserSyncResult;
  next?: AbacAttribute[];
}

/**
 * Reads every user's entry before writing anything, so a directory fault changes nothing; then writes the
 * changed attributes conditionally, evicts from the ABAC rooms users no longer qualify for, and audits.
 */
export class AbacLdapSyncService implements UsersSyncService {
  constructor(private readonly ports: AbacLdapSyncServicePorts) {}

  async sync(request: SyncRequest): Promise<SyncReport> {
    const { users, settings, directory, logger } = this.ports;
    const timer = new PhaseTimer();
    const configuration = syncConfiguration(await timer.time('settings', () => settings.current()));
    const { subjects, unmatched } = await timer.time('mongoReads', () =>
      findSubjects(users, request.identifiers),
    );

    let matches = new Map<string, EntryMatch>();
    const ldapStats: DirectoryStats = { searchRoundTrips: 0, entries: 0 };
    const ldapSubjects = subjects.filter((subject) => subject.fromLdap);
    if (ldapSubjects.length > 0) {
      await timer.time('ldap', async () => {
        const session = await directory.open(configuration.connection);
        try {
          matches = await lookUpEntries(session, configuration, ldapSubjects);
        } finally {
          Object.assign(ldapStats, session.stats);
          await session.close();
        }
      });
    }

    refuseMappingThatMatchesNothing(subjects, matches, configuration.mapping);
    const plans = subjects.map((subject) => plan(subject, matches.get(subject._id), configuration.mapping));
    const rooms: KnownRooms = new Map();
    await timer.time('mongoReads', () =>
      this.lookUpRooms(
        plans.filter((item) => item.result.removed?.length).flatMap((item) => item.subject.rooms),
        rooms,
      ),
    );
    if (request.dryRun) {
      for (const item of plans) this.previewEviction(item, rooms);
    } else {
      await this.apply(plans, rooms, request, timer);
    }
    const result = report(request, plans, unmatched);
    const durationsMs = timer.rounded();
    logger.info(
      {
        requestId: request.requestId,
        dryRun: request.dryRun,
        ...result.summary,
        ldapSearchRoundTrips: ldapStats.searchRoundTrips,
        ldapEntries: ldapStats.entries,
        durationsMs,
      },
      'users sync finished',
    );
    this.ports.metrics.syncCompleted({
      dryRun: request.dryRun,
      summary: result.summary,
      ldapSearchRoundTrips: ldapStats.searchRoundTrips,
      durationsMs,
    });
    return result;
  }

  /** Adds the rooms not known yet to `known` in one query (null for a room that is not ABAC-managed). */
  private async lookUpRooms(roomIds: string[], known: KnownRooms): Promise<void> {
    const unknown = [...new Set(roomIds)].filter((roomId) => !known.has(roomId));
    if (unknown.length === 0) return;
    // Filtered here rather than in the query: a filter on _id alone is answered from the index everywhere.
    const found = await this.ports.rooms
      .find({ _id: { $in: unknown } }, { name: 1, abacAttributes: 1 })
      .lean<RoomDocument[]>()
      .exec();
    for (const roomId of unknown) known.set(roomId, null);
    for (const room of found) if (room.abacAttributes?.length) known.set(room._id, room);
  }

  /**
   * Takes the users just written out of the ABAC rooms their new attributes no longer satisfy. Runs while
   * their write claims are held, with the rooms read under the claim, so no overlapping sync repeats it.
   */
  private async evict(written: WrittenPlan[], rooms: KnownRooms): Promise<RoomRemoval[]> {
    const losing = written
      .filter(({ item }) => item.result.removed?.length)
      .map(({ item, memberOf }) => ({
        subject: { ...item.subject, rooms: memberOf },
        next: item.next ?? [],
      }));
    // Rooms joined since the sync first read the user are looked up now.
    await this.lookUpRooms(
      losing.flatMap(({ subject }) => subject.rooms),
      rooms,
    );
    return this.ports.memberRemover.remove(
      losing.flatMap(({ subject, next }) => evictions(subject, next, rooms)),
    );
  }

  private previewEviction(item: Plan, rooms: KnownRooms) {
    const removals = evictions(item.subject, item.next ?? [], rooms);
    if (item.result.removed?.length) item.result.roomsRevoked = removals.map((removal) => removal.room);
  }

  private async apply(plans: Plan[], rooms: KnownRooms, request: SyncRequest, timer: PhaseTimer) {
    const { users, writeClaims, clock, audit } = this.ports;
    const writes: PlannedWrite[] = plans
      .filter((item) => item.next !== undefined)
      .map((item) => ({ userId: item.subject._id, next: item.next ?? [] }));
    const plansByUser = new Map(plans.map((item) => [item.subject._id, item]));
    const revokedByUser = new Map<string, RoomRemoval['room'][]>();
    const audits: Array<Promise<number>> = [];
    const context = { actor: request.caller, requestId: request.requestId };
    let outcomes: Map<string, WriteOutcome>;
    let failedAuditWrites = 0;
    try {
      outcomes = await timer.time('writes', () =>
        writeAttributes({ users, writeClaims, clock }, writes, async (written) => {
          // The report's diff, the eviction and the audit all follow from the value read under the claim.
          const writtenPlans = written.flatMap(({ userId, before, rooms: memberOf }): WrittenPlan[] => {
            const item = plansByUser.get(userId);
            if (!item) return [];
            item.result = { ...item.result, ...diffAttributes(before, item.next ?? []) };
            return [{ item, memberOf }];
          });
          const removals = await timer.time('eviction', () => this.evict(writtenPlans, rooms));
          for (const { user, room } of removals) addToGroup(revokedByUser, user._id, room);
          // Not awaited here: the audit insert runs while the writer releases the claims. It never rejects.
          audits.push(audit.record(auditEvents(writtenPlans, removals), context));
        }),
      );
    } finally {
      // What was written before a fault is audited too.
      const failed = await timer.time('audit', () => Promise.all(audits));
      failedAuditWrites = failed.reduce((total, count) => total + count, 0);
    }

    for (const item of plans) {
      const outcome = outcomes.get(item.subject._id);
      if (!outcome) continue;
      if (outcome.kind === 'conflict') {
        item.result = { ...identity(item.subject), status: 'failed', error: 'error-write-conflict' };
        continue;
      }
      if (outcome.kind === 'alreadyCurrent') {
        item.result = { ...identity(item.subject), status: 'unchanged' };
        continue;
      }
      if (item.result.removed?.length) item.result.roomsRevoked = revokedByUser.get(item.subject._id) ?? [];
    }
    if (failedAuditWrites > 0) {
      this.ports.logger.warn(
        { requestId: request.requestId, failedAuditWrites },
        'sync finished with audit failures',
      );
    }
  }
}

/** The audit events of one write attempt: each change, then each room access revoked. */
function auditEvents(written: WrittenPlan[], removals: RoomRemoval[]): AuditEvent[] {
  const changes = written.map(({ item }): AuditEvent => ({
    type: 'attributesChanged',
    subject: identity(item.subject),
    added: item.result.added ?? [],
    removed: item.result.removed ?? [],
  }));
  const revocations = removals.map(({ user, room }): AuditEvent => ({
    type: 'accessRevoked',
    subject: user,
    object: room,
  }));
  return [...changes, ...revocations];
}

function identity(subject: SyncSubject) {
  return { _id: subject._id, username: subject.username };
}

function plan(
  subject: SyncSubject,
  match: EntryMatch | undefined,
  mapping: Parameters<typeof mapEntry>[1],
): Plan {
  const failed = (error: NonNullable<UserSyncResult['error']>): Plan => ({
    subject,
    result: { ...identity(subject), status: 'failed', error },
  });
  if (!subject.fromLdap) return failed('error-user-not-ldap');
  if (!match || match.kind === 'notFound')
    return { subject, result: { ...identity(subject), status: 'notFoundInLdap' } };
  if (match.kind === 'ambiguous') return failed('error-ldap-ambiguous-entry');
  if (match.kind === 'shared') return failed('error-ldap-entry-shared');
  const next = mapEntry(match.entry, mapping);
  const stored = subject.storedAttributes;
  if (sameAttributes(stored, next)) return { subject, result: { ...identity(subject), status: 'unchanged' } };
  const { added, removed } = diffAttributes(stored, next);
  const status = next.length === 0 ? 'cleared' : 'updated';
  return { subject, next, result: { ...identity(subject), status, added, removed } };
}

/**
 * Several entries found, none with a mapped value, while their users hold attributes: the map or the bind
 * account is broken, and writing would clear everyone. A single user may still be cleared.
 */
function refuseMappingThatMatchesNothing(
  subjects: readonly SyncSubject[],
  matches: Map<string, EntryMatch>,
  mapping: AttributeMapping,
): void {
  const found = subjects.flatMap((subject) => {
    const match = matches.get(subject._id);
    return match?.kind === 'found' ? [{ subject, entry: match.entry }] : [];
  });
  if (found.length < 2) return;
  if (found.some(({ entry }) => mapEntry(entry, mapping).length > 0)) return;
  if (!found.some(({ subject }) => subject.storedAttributes.length > 0)) return;
  throw new MappingMatchesNothingError(mapping.namesAsGiven, found.length);
}

function evictions(subject: SyncSubject, next: AbacAttribute[], rooms: KnownRooms): RoomRemoval[] {
  return subject.rooms
    .map((roomId) => rooms.get(roomId))
    .filter((room): room is RoomDocument => !!room && !satisfies(next, room.abacAttributes ?? []))
    .map((room) => ({ user: identity(subject), room: { _id: room._id, name: room.name ?? '' } }));
}

function report(request: SyncRequest, plans: Plan[], unmatched: SyncReport['unmatched']): SyncReport {
  const summary: SyncSummary = {
    requested: Object.values(request.identifiers).reduce((total, list) => total + (list?.length ?? 0), 0),
    matched: plans.length,
    updated: 0,
    cleared: 0,
    unchanged: 0,
    notFoundInLdap: 0,
    failed: 0,
    roomsRevoked: 0,
  };
  for (const { result } of plans) {
    summary[result.status] += 1;
    summary.roomsRevoked += result.roomsRevoked?.length ?? 0;
  }
  return {
    success: true,
    dryRun: request.dryRun,
    summary,
    users: plans.map((item) => item.result),
    unmatched,
  };
}
