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
  /**
   * Where the next poll starts reading, behind the watermark by the overlap (a change that reaches the
   * server late, from another provider or a replica that was behind, carries its older time). Absent: the
   * watermark itself.
   */
  readFrom?: string;
  /** The changes applied behind the watermark, at or after readFrom, by change time, oldest first. */
  appliedBehind?: AppliedAt[];
}

/** The keys of the changes applied at one change time. */
export interface AppliedAt {
  at: string;
  keys: string[];
}

/** How far behind the watermark the feed reads again, and how many applied keys it keeps for that. */
export interface Overlap {
  seconds: number;
  /** Past this many keys, the oldest times are forgotten and readFrom moves up to the oldest kept. */
  maxKeys: number;
}

export const NO_OVERLAP: Overlap = { seconds: 0, maxKeys: 0 };

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
 * entryCSNs as text (their fixed format sorts in time order, then by count, server and modifier). An
 * entryCSN and a generalized time compare by the CSN's time.
 */
export function compareTimes(a: string, b: string): number {
  const csns = isCsn(a) && isCsn(b);
  const left = csns ? a.toLowerCase() : (timeKey(timeOf(a)) ?? '');
  const right = csns ? b.toLowerCase() : (timeKey(timeOf(b)) ?? '');
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A change time's generalized time: an entryCSN's leading time, or the value itself. */
function timeOf(value: string): string {
  return isCsn(value) ? value.slice(0, value.indexOf('#')) : value;
}

/**
 * `seconds` before a change time, in its own format: an entryCSN's lowest value at that instant, or a
 * generalized time in whole seconds (rounded down, so nothing in the boundary second is missed).
 */
export function timeBefore(value: string, seconds: number): string | undefined {
  const key = timeKey(timeOf(value));
  if (key === undefined) return undefined;
  const [utcSeconds, fraction] = key.split('.') as [string, string];
  const iso = `${utcSeconds.slice(0, 4)}-${utcSeconds.slice(4, 6)}-${utcSeconds.slice(6, 8)}T${utcSeconds.slice(8, 10)}:${utcSeconds.slice(10, 12)}:${utcSeconds.slice(12, 14)}Z`;
  const shifted = new Date(Date.parse(iso) - seconds * 1000).toISOString().slice(0, 19).replace(/\D/g, '');
  return isCsn(value) ? `${shifted}.${fraction.slice(0, 6)}Z#000000#000#000000` : `${shifted}Z`;
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

/** The keys of the changes applied behind the watermark (a key holds its change's stamp, so its time). */
function keysBehind(position: FeedPosition | undefined): Set<string> {
  return new Set((position?.appliedBehind ?? []).flatMap(({ keys }) => keys));
}

/** Where a poll starts reading: readFrom, or the watermark for a position kept without one. */
export function readStart(position: FeedPosition): string {
  return position.readFrom ?? position.watermark;
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
  const behind = keysBehind(position);
  for (const change of read) {
    if (position) {
      if (compareTimes(change.changedAt, readStart(position)) < 0) continue;
      if (isRepeat(change, position) && isCsn(change.stamp)) continue;
      if (behind.has(changeKey(change))) continue;
    }
    byKey.set(changeKey(change), change);
  }
  return [...byKey.values()].sort(
    (a, b) => compareTimes(a.changedAt, b.changedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/**
 * Where the feed stands once `applied` (a prefix of newChanges' answer, oldest first) has been applied: at
 * the newest of their times, remembering every change applied at that time, and, for the overlap, those
 * applied behind it since readFrom. readFrom never moves back: nothing before where the feed started, or
 * before keys it has forgotten, is read again.
 */
export function positionAfter(
  applied: readonly ChangedEntry[],
  previous: FeedPosition | undefined,
  overlap: Overlap = NO_OVERLAP,
): FeedPosition | undefined {
  let watermark = previous?.watermark;
  for (const change of applied) watermark = newerTime(watermark, change.changedAt);
  if (watermark === undefined) return undefined;
  // Keyed by a normal form of the time, so one instant written two ways is one entry.
  const byTime = new Map<string, { at: string; keys: Set<string> }>();
  const add = (at: string, key: string) => {
    const normal = isCsn(at) ? at.toLowerCase() : (timeKey(at) ?? at);
    const entry = byTime.get(normal) ?? { at, keys: new Set<string>() };
    byTime.set(normal, entry);
    entry.keys.add(key);
  };
  for (const { at, keys } of previous?.appliedBehind ?? []) for (const key of keys) add(at, key);
  if (previous) for (const key of previous.appliedAtWatermark) add(previous.watermark, key);
  for (const change of applied) add(change.changedAt, changeKey(change));

  let readFrom = timeBefore(watermark, overlap.seconds) ?? watermark;
  if (previous && compareTimes(readStart(previous), readFrom) > 0) readFrom = readStart(previous);
  if (compareTimes(readFrom, watermark) > 0) readFrom = watermark;
  const times = [...byTime.values()];
  const behind = times
    .filter(({ at }) => compareTimes(at, readFrom) >= 0 && compareTimes(at, watermark) < 0)
    .sort((a, b) => compareTimes(a.at, b.at))
    .map(({ at, keys }) => ({ at, keys: [...keys].sort() }));
  let kept = behind.reduce((sum, { keys }) => sum + keys.length, 0);
  while (behind.length > 0 && kept > overlap.maxKeys) {
    kept -= behind.shift()!.keys.length;
    readFrom = behind[0]?.at ?? watermark;
  }
  const atWatermark = times.find(({ at }) => compareTimes(at, watermark) === 0);
  return {
    watermark,
    appliedAtWatermark: [...(atWatermark?.keys ?? [])].sort(),
    ...(compareTimes(readFrom, watermark) < 0 ? { readFrom } : {}),
    ...(behind.length > 0 ? { appliedBehind: behind } : {}),
  };
}
