import type { AuditEvents } from './audit-events';
import type { Clock } from '../clock';
import type { DeferredWork } from '../deferred-work';
import { DirectoryMap } from './directory-map';
import { lookUpEntries, readAheadByUsername, type EntryMatch, type UsernameReadAhead } from './entry-lookup';
import { addToGroup } from '../group';
import type { Directory, DirectorySession, DirectoryStats } from '../ldap/directory';
import type { Logger } from '../logger';
import type { SyncMetrics } from '../metrics';
import { PhaseTimer } from './phase-timer';
import { lookUpRooms, PlanApplier } from './plan-applier';
import type { RoomMemberRemover } from './room-member-remover';
import type { RoomMemberRestorer } from './room-member-restorer';
import type { SettingsSource } from '../settings';
import { syncConfiguration, type SyncConfiguration } from './sync-configuration';
import {
  needsClaim,
  planResolved,
  resolveMatch,
  refuseMappingThatMatchesNothing,
  report,
  roomsToLeave,
  withRoomsRevoked,
  type KnownRooms,
  type Plan,
  type ResolvedMatch,
} from './sync-plan';
import type { BegunSync, SyncReport, SyncRequest, UserSyncResult, UsersSyncService } from './sync-report';
import { membershipKey, type SubjectLookup, type SyncStore, type SyncSubject } from './sync-store';
import type { Identifiers } from './sync-request';

/**
 * Which guard a plan passes: a request refuses entries none of which carries a mapped value (409); a
 * directory-wide run plans them, and its mass-revocation guard decides over the whole plan.
 */
export interface PlanGuard {
  refuseUnmappedEntries: boolean;
}

export interface AbacLdapSyncServicePorts {
  store: SyncStore;
  settings: SettingsSource;
  directory: Directory;
  memberRemover: RoomMemberRemover;
  memberRestorer: RoomMemberRestorer;
  audit: AuditEvents;
  logger: Logger;
  metrics: SyncMetrics;
  clock: Clock;
  /** Where the outboxes' clearing goes when a request asks for `clearOutboxesLater`. */
  deferredWork?: DeferredWork;
}

/** What a request reads before it plans: the settings, the users MongoDB found, the directory read ahead. */
interface RequestReads {
  configuration: SyncConfiguration;
  readAhead: Promise<ReadAhead> | undefined;
  found: SubjectLookup;
}

/** A session opened for a request, with the entries read on it by username (undefined: none could be). */
interface ReadAhead {
  session: DirectorySession;
  entries: UsernameReadAhead | undefined;
}

/**
 * Reads every user's entry before writing anything, so a directory fault changes nothing; plans each user;
 * then hands the plans to the PlanApplier, which writes them (conditionally), evicts and audits. A request,
 * a feed batch and a directory-wide run all go through this one engine.
 */
export class AbacLdapSyncService implements UsersSyncService {
  private readonly applier: PlanApplier;

  constructor(private readonly ports: AbacLdapSyncServicePorts) {
    this.applier = new PlanApplier(ports);
  }

  async sync(request: SyncRequest): Promise<SyncReport> {
    return this.begin(request.identifiers).finish(request);
  }

  /**
   * Begins a request's reads, writing nothing: the settings, then MongoDB's users with the directory read by
   * username beside them. A route may begin them while its caller is still being admitted; it then either
   * finishes them into the sync or abandons them.
   */
  begin(identifiers: Identifiers): BegunSync {
    const timer = new PhaseTimer();
    const reads = this.readRequest(identifiers, timer);
    // Its failure is the sync's, thrown by finish; an abandoned read's is nobody's.
    reads.catch(() => undefined);
    return {
      finish: (request) => this.finish({ ...request, identifiers }, reads, timer),
      abandon: () => reads.then(({ readAhead }) => closeUnused(readAhead)).catch(() => undefined),
    };
  }

  private async readRequest(identifiers: Identifiers, timer: PhaseTimer): Promise<RequestReads> {
    const configuration = await this.configuration(timer);
    // The directory is read by username while MongoDB finds the users: most are found by username.
    const readAhead = this.readAhead(configuration, identifiers.usernames ?? []);
    try {
      const found = await timer.time('mongoReads', () => this.ports.store.findSubjects(identifiers));
      return { configuration, readAhead, found };
    } catch (error) {
      await closeUnused(readAhead);
      throw error;
    }
  }

  private async finish(
    request: SyncRequest,
    reads: Promise<RequestReads>,
    timer: PhaseTimer,
  ): Promise<SyncReport> {
    const { logger } = this.ports;
    // Awaited before `compute` starts: the reads are timed as their own phases, however early they began.
    const { configuration, readAhead, found } = await reads;
    // The rest of the sync is `compute`, less every phase timed inside it.
    const { result, ldap } = await timer.time('compute', async () => {
      const synced = await this.syncSubjects(found.subjects, request, timer, { configuration, readAhead });
      return { result: report(request, synced.results, found.unmatched), ldap: synced.ldap };
    });
    const durationsMs = timer.rounded();
    logger.info(
      {
        requestId: request.requestId,
        dryRun: request.dryRun,
        ...result.summary,
        ldapSearchRoundTrips: ldap.searchRoundTrips,
        ldapEntries: ldap.entries,
        ldapReferrals: ldap.references,
        durationsMs,
      },
      'users sync finished',
    );
    this.ports.metrics.syncCompleted({
      dryRun: request.dryRun,
      summary: result.summary,
      ldapSearchRoundTrips: ldap.searchRoundTrips,
      durationsMs,
    });
    return result;
  }

  /**
   * The engine over one batch of subjects, for a request and for a job alike: reads their entries, plans,
   * then applies the plan (or, in a dry run, says what applying would do). Resolves with one result per
   * subject, in their order.
   */
  async syncSubjects(
    subjects: readonly SyncSubject[],
    run: Pick<SyncRequest, 'dryRun' | 'actor' | 'requestId' | 'reason' | 'clearOutboxesLater' | 'answered'>,
    timer = new PhaseTimer(),
    prepared?: { configuration: SyncConfiguration; readAhead: Promise<ReadAhead> | undefined },
  ): Promise<{ results: UserSyncResult[]; ldap: DirectoryStats }> {
    const configuration = prepared?.configuration ?? (await this.configuration(timer));
    const rooms: KnownRooms = new Map();
    const { plans, ldap } = await this.planSubjects(
      subjects,
      configuration,
      rooms,
      run.requestId,
      timer,
      undefined,
      prepared?.readAhead,
    );
    if (run.dryRun) await timer.time('mongoReads', () => this.preview(plans, rooms));
    else
      await this.applyPlans(
        plans.filter((plan) => needsClaim(plan, rooms)),
        rooms,
        { ...run, writeUnclaimed: true },
        timer,
      );
    return { results: plans.map((plan) => plan.result), ldap };
  }

  /** The settings as a sync reads them; throws the 400 errors (ABAC or LDAP off, settings unusable). */
  async configuration(timer = new PhaseTimer()): Promise<SyncConfiguration> {
    return syncConfiguration(await timer.time('settings', () => this.ports.settings.current()));
  }

  /**
   * Reads the subjects' entries and plans each one, writing nothing; adds the rooms their plans involve to
   * `rooms`. A directory fault throws before any plan exists.
   */
  async planSubjects(
    subjects: readonly SyncSubject[],
    configuration: SyncConfiguration,
    rooms: KnownRooms,
    requestId: string,
    timer = new PhaseTimer(),
    guard: PlanGuard = { refuseUnmappedEntries: true },
    readAhead?: Promise<ReadAhead>,
  ): Promise<{ plans: Plan[]; ldap: DirectoryStats }> {
    const { directory, logger } = this.ports;
    let matches = new Map<string, EntryMatch>();
    const ldap: DirectoryStats = { searchRoundTrips: 0, entries: 0, references: 0 };
    const ldapSubjects = subjects.filter((subject) => subject.fromLdap);
    if (ldapSubjects.length > 0) {
      // Timed from here: what the read ahead did beside MongoDB's read is not the request's wait.
      await timer.time('ldap', async () => {
        const { session, entries } = readAhead
          ? await readAhead
          : { session: await directory.open(configuration.connection), entries: undefined };
        try {
          matches = await lookUpEntries(session, configuration, ldapSubjects, entries);
        } finally {
          Object.assign(ldap, session.stats);
          await session.close();
        }
      });
    } else await closeUnused(readAhead);
    if (ldap.references > 0) {
      logger.warn(
        { requestId, ldapReferrals: ldap.references },
        'LDAP search returned referrals, which are not followed',
      );
    }

    const resolved = new Map<string, ResolvedMatch>();
    for (const [subjectId, match] of matches)
      resolved.set(subjectId, resolveMatch(match, configuration.mapping));
    const plans = await this.planMatched(subjects, resolved, configuration, rooms, timer, guard);
    return { plans, ldap };
  }

  /**
   * Opens a session and reads the entries of `usernames` on it, for the lookups of the users MongoDB finds
   * meanwhile; undefined when no username was named. Never rejects unobserved: its failure is the
   * lookups' (a directory fault answers 503 as it would have).
   */
  private readAhead(configuration: SyncConfiguration, usernames: readonly string[]) {
    if (usernames.length === 0) return undefined;
    const read = (async (): Promise<ReadAhead> => {
      const session = await this.ports.directory.open(configuration.connection);
      try {
        return { session, entries: await readAheadByUsername(session, configuration, usernames) };
      } catch (error) {
        await session.close();
        throw error;
      }
    })();
    read.catch(() => undefined);
    return read;
  }

  /**
   * Reads the whole user subtree once into a map (a directory-wide run), asking for the identifier
   * attributes the users' identifiers are stored under too. Throws the directory's errors,
   * LdapSizeLimitExceededError when a server limit cuts the read short, DirectoryLargerThanExpectedError
   * past `maxEntries`.
   */
  async readDirectoryMap(
    configuration: SyncConfiguration,
    storedIdAttributes: Iterable<string>,
    requestId: string,
    timer = new PhaseTimer(),
    maxEntries?: number,
  ): Promise<DirectoryMap> {
    return timer.time('ldap', async () => {
      const session = await this.ports.directory.open(configuration.connection);
      try {
        return await DirectoryMap.read(session, configuration, storedIdAttributes, maxEntries);
      } finally {
        if (session.stats.references > 0)
          this.ports.logger.warn(
            { requestId, ldapReferrals: session.stats.references },
            'LDAP search returned referrals, which are not followed',
          );
        await session.close();
      }
    });
  }

  /**
   * Plans subjects whose entries were read already (a directory-wide run may read them all at once): the
   * mapping guard, each plan, and the rooms their plans involve added to `rooms`.
   */
  async planMatched(
    subjects: readonly SyncSubject[],
    matches: ReadonlyMap<string, ResolvedMatch>,
    configuration: SyncConfiguration,
    rooms: KnownRooms,
    timer = new PhaseTimer(),
    guard: PlanGuard = { refuseUnmappedEntries: true },
  ): Promise<Plan[]> {
    if (guard.refuseUnmappedEntries)
      refuseMappingThatMatchesNothing(subjects, matches, configuration.mapping);
    const plans = subjects.map((subject) =>
      planResolved(subject, matches.get(subject._id) ?? { kind: 'notFound' }),
    );
    await timer.time('mongoReads', () =>
      lookUpRooms(
        this.ports.store,
        plans.flatMap((plan) => (plan.next ? plan.subject.rooms : [])),
        rooms,
      ),
    );
    return plans;
  }

  /** What a real run would do: the same rooms, limited to the memberships that exist. */
  async preview(plans: Plan[], rooms: KnownRooms): Promise<void> {
    const leaving = plans.flatMap((plan) =>
      plan.next
        ? roomsToLeave(plan.subject.rooms, plan.next, rooms, plan.subject.outbox).map((room) => ({
            plan,
            room,
          }))
        : [],
    );
    const subscriptions = await this.ports.store.findMemberships(
      leaving.map(({ plan, room }) => ({ userId: plan.subject._id, roomId: room._id })),
    );
    const revokedByUser = new Map<string, { _id: string; name: string }[]>();
    for (const { plan, room } of leaving) {
      if (subscriptions.has(membershipKey(room._id, plan.subject._id)))
        addToGroup(revokedByUser, plan.subject._id, room);
    }
    for (const plan of plans) {
      if (plan.next) plan.result = withRoomsRevoked(plan.result, revokedByUser.get(plan.subject._id) ?? []);
    }
  }

  /**
   * Applies plans that need their user's claim (see needsClaim and PlanApplier); each plan's result becomes
   * what was done.
   */
  applyPlans(...args: Parameters<PlanApplier['apply']>): Promise<void> {
    return this.applier.apply(...args);
  }
}

/** Closes a read ahead that no lookup will use; a read that failed has nothing to close. */
async function closeUnused(readAhead: Promise<ReadAhead> | undefined): Promise<void> {
  await readAhead?.then(({ session }) => session.close()).catch(() => undefined);
}
