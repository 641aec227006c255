// Pure steps of the changed-entries feed: ordering the directory's generalized times, choosing which of
// the entries read are new, and where the feed stands once some have been applied. No I/O here.

/**
 * Where the feed has read up to, in the directory's own time (never the host's clock, so hosts whose
 * clocks disagree agree on it).
 */
export interface FeedPosition {
  /**
   * The newest change applied, as the directory wrote it: an entryCSN where the server keeps them
   * (OpenLDAP: microseconds), else a generalized time such as 20261202193012Z.
   */
  watermark: string;
  /**
   * The changes at exactly the watermark that were applied. Every poll reads the watermark again (times
   * may have whole-second granularity); these are the ones it must not apply twice.
   */
  appliedAtWatermark: string[];
}

/** An entry the feed read because it changed at or after the watermark. */
export interface ChangedEntry {
  /** The entry's stable id (entryUUID), or its DN when the server has none. */
  id: string;
  dn: string;
  /** When it last changed: its entryCSN in CSN mode, else the newer of modifyTimestamp and createTimestamp. */
  changedAt: string;
  /**
   * What tells two changes of one entry in one second apart: entryCSN where the server keeps it (OpenLDAP),
   * else changedAt.
   */
  stamp: string;
}

const GENERALIZED_TIME = /^(\d{10})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/;

/**
 * A generalized time as a string that sorts in time order: UTC, seconds, then the fraction padded to
 * nanoseconds. Undefined when the value is not a generalized time.
 */
export function timeKey(value: string): string | undefined {
  const match = GENERALIZED_TIME.exec(value);
  if (!match) return undefined;
  const [, dateHour, minutes = '00', seconds = '00', fraction = '', zone] = match;
  const stamp = `${dateHour!.slice(0, 4)}-${dateHour!.slice(4, 6)}-${dateHour!.slice(6, 8)}T${dateHour!.slice(8, 10)}:${minutes}:${seconds}`;
  const offset = zone === 'Z' ? 'Z' : `${zone!.slice(0, 3)}:${zone!.slice(3, 5) || '00'}`;
  const ms = Date.parse(`${stamp}${offset}`);
  if (Number.isNaN(ms)) return undefined;
  const utcSeconds = new Date(ms).toISOString().slice(0, 19).replace(/\D/g, '');
  return `${utcSeconds}.${fraction.padEnd(9, '0').slice(0, 9)}`;
}

/** An OpenLDAP change sequence number: a UTC time to the microsecond, a count, a server id, a modifier. */
const CSN = /^\d{14}\.\d{6}Z#[0-9a-f]{6}#[0-9a-f]{3}#[0-9a-f]{6}$/i;

export function isCsn(value: string): boolean {
  return CSN.test(value);
}

/**
 * Compares two change times: generalized times by time (values that are not times sort first), and
 * entryCSNs as text (their fixed format sorts in time order, then by count, server and modifier).
 */
export function compareTimes(a: string, b: string): number {
  const csns = isCsn(a) && isCsn(b);
  const left = csns ? a.toLowerCase() : (timeKey(a) ?? '');
  const right = csns ? b.toLowerCase() : (timeKey(b) ?? '');
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The newer of two generalized times (either may be missing). */
export function newerTime(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareTimes(a, b) >= 0 ? a : b;
}

export function changeKey(change: Pick<ChangedEntry, 'id' | 'stamp'>): string {
  return `${change.id}@${change.stamp}`;
}

/** A change at the watermark whose key was applied already. */
export function isRepeat(change: ChangedEntry, position: FeedPosition | undefined): boolean {
  return (
    !!position &&
    compareTimes(change.changedAt, position.watermark) === 0 &&
    position.appliedAtWatermark.includes(changeKey(change))
  );
}

/**
 * The entries read that are still to be applied, oldest first: every entry changed after the watermark,
 * and those at the watermark whose change was not applied yet. One entry read twice counts once.
 *
 * Where only a whole-second time tells changes apart (no entryCSN: 389-DS, Active Directory), a second
 * change of an entry in the watermark's second has the key of the first: such entries are synced again
 * at every poll while they stand at the watermark (a re-sync is idempotent), never skipped.
 */
export function newChanges<T extends ChangedEntry>(
  read: readonly T[],
  position: FeedPosition | undefined,
): T[] {
  const byKey = new Map<string, T>();
  for (const change of read) {
    if (position) {
      if (compareTimes(change.changedAt, position.watermark) < 0) continue;
      if (isRepeat(change, position) && isCsn(change.stamp)) continue;
    }
    byKey.set(changeKey(change), change);
  }
  return [...byKey.values()].sort(
    (a, b) => compareTimes(a.changedAt, b.changedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/**
 * Where the feed stands once `applied` (a prefix of newChanges' answer, oldest first) has been applied: at
 * the newest of their times, remembering every change applied at that time.
 */
export function positionAfter(
  applied: readonly ChangedEntry[],
  previous: FeedPosition | undefined,
): FeedPosition | undefined {
  let watermark = previous?.watermark;
  for (const change of applied) watermark = newerTime(watermark, change.changedAt);
  if (watermark === undefined) return undefined;
  const keys = new Set(
    previous && compareTimes(previous.watermark, watermark) === 0 ? previous.appliedAtWatermark : [],
  );
  for (const change of applied)
    if (compareTimes(change.changedAt, watermark) === 0) keys.add(changeKey(change));
  return { watermark, appliedAtWatermark: [...keys].sort() };
}
