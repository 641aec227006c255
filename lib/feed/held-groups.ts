// The reconciliation of group DNs held in users' attributes against the directory. A group that is
// deleted, or moved or renamed out of the watched base, is never a changed entry the feed reads, and the
// memberof overlay rewrites its members' memberOf without changing their entryCSN: without this, its
// members would keep what it granted until the next directory-wide run. Pure steps here; the feed's
// consumer does the reads and the sync.

import type { DirectorySession } from '../ldap/directory';
import type { AttributeMapping } from '../sync/attribute-mapping';
import type { FeedSearch } from './change-feed';

/** How far a reconciliation pass has gone through the users, in `_id` order. */
export interface ReconcileProgress {
  startedAt: Date;
  /** The last user `_id` checked; absent at the pass's start. */
  after?: string;
  /** Set once every user was checked; the next pass starts a period later. */
  completedAt?: Date;
}

/** One user's values under the keys that hold group DNs. */
export interface HeldValues {
  _id: string;
  values: string[];
}

/** The ABAC keys that hold group DNs: those mapped from memberOf. */
export function groupKeys(mapping: AttributeMapping): string[] {
  return [
    ...new Set(mapping.rules.filter((rule) => rule.ldapAttribute === 'memberof').map((rule) => rule.abacKey)),
  ];
}

/**
 * Where the next slice of a pass starts: a new pass when none ran or the last one ended a period ago, the
 * running pass where it stopped, or undefined when nothing is due (or reconciling is off: period 0).
 */
export function reconcileDue(
  progress: ReconcileProgress | undefined,
  now: Date,
  periodMs: number,
): ReconcileProgress | undefined {
  if (periodMs <= 0) return undefined;
  if (!progress || (progress.completedAt && now.getTime() - progress.completedAt.getTime() >= periodMs))
    return { startedAt: now };
  return progress.completedAt ? undefined : progress;
}

/** The progress once a slice of `checked` users (of at most `sliceSize`, in `_id` order) is done. */
export function progressAfter(
  pass: ReconcileProgress,
  checked: readonly HeldValues[],
  sliceSize: number,
  now: Date,
): ReconcileProgress {
  const last = checked[checked.length - 1];
  return checked.length < sliceSize || !last
    ? { startedAt: pass.startedAt, completedAt: now }
    : { startedAt: pass.startedAt, after: last._id };
}

/**
 * The users holding a group DN that the directory does not list as a watched group, spelled as it
 * spells it. Syncing them reads the truth: a false alarm (a group created since the listing, a group
 * outside the watched base) costs one sync that changes nothing.
 */
export function staleHolders(users: readonly HeldValues[], groups: ReadonlySet<string>): string[] {
  return users.filter((user) => user.values.some((value) => !groups.has(value))).map((user) => user._id);
}

/** The DNs of the watched groups, as the directory spells them (one streamed search, no attributes). */
export async function watchedGroups(
  session: DirectorySession,
  search: FeedSearch,
): Promise<Set<string> | undefined> {
  const { groups } = search;
  if (!groups) return undefined;
  const dns = new Set<string>();
  await session.search(
    {
      baseDN: groups.baseDN,
      scope: 'sub',
      filter: { kind: 'configured', text: groups.filter },
      attributes: ['1.1'],
      pageSize: search.pageSize,
      sizeLimit: 0,
    },
    (entry) => dns.add(entry.dn),
  );
  return dns;
}
