import type { DirectoryEntry, DirectorySession } from '../ldap/directory';
import { allOf, anyOf, atLeast, equals, type DirectoryFilter } from '../ldap/filter';
import type { ChangeFeed, FeedChange, FeedRead, FeedSearch } from './change-feed';
import { compareTimes, isCsn, newerTime, positionAfter, readStart, type FeedPosition } from './feed-position';

const CHANGE_ATTRIBUTES = ['modifyTimestamp', 'createTimestamp', 'entryUUID', 'entryCSN'];
/** Ids per restore check search. */
const IDS_PER_SEARCH = 100;

/**
 * What orders changes: `csn`, the entries' entryCSN (OpenLDAP: microseconds, so the watermark's own
 * instant holds one change, not every entry a bulk load wrote in that second); `time`, the newer of
 * modifyTimestamp and createTimestamp (whole seconds), for servers without entryCSN.
 */
type Mode = 'csn' | 'time';

interface ReadEntry {
  kind: 'user' | 'group';
  entry: DirectoryEntry;
}

/**
 * The changed-entries feed of a directory that keeps change times: every poll reads the entries changed at
 * or after the position's readFrom (the overlap behind the watermark; the watermark itself when there is
 * none), in the user search and the watched groups. It
 * orders changes by entryCSN where every entry carries one, else by modifyTimestamp and createTimestamp.
 * Which one is in use follows from the watermark's format, so a position stays meaningful across restarts.
 */
export class TimestampChangeFeed implements ChangeFeed {
  async start(session: DirectorySession, search: FeedSearch): Promise<FeedPosition | undefined> {
    // Streamed: a directory of millions is read one entry at a time, keeping only its newest change's.
    const byCsn = new NewestChanges('csn');
    const byTime = new NewestChanges('time');
    let everyEntryHasCsn = true;
    let entries = 0;
    await readEntries(session, search, undefined, (read) => {
      entries += 1;
      if (!read.entry.attributes.has('entrycsn')) everyEntryHasCsn = false;
      if (everyEntryHasCsn) byCsn.add(read);
      byTime.add(read);
    });
    const newest = entries > 0 && everyEntryHasCsn ? byCsn : byTime;
    return positionAfter(newest.changes, undefined);
  }

  async read(session: DirectorySession, search: FeedSearch, position: FeedPosition): Promise<FeedRead> {
    const mode = modeOf(position.watermark);
    const read: ReadEntry[] = [];
    await readEntries(session, search, readStart(position), (entry) => read.push(entry));
    const changes = changesOf(read, mode);
    return { changes, restored: await wentBackInTime(session, search, position, changes, mode) };
  }
}

function modeOf(watermark: string): Mode {
  return isCsn(watermark) ? 'csn' : 'time';
}

/** The filter part that selects what changed at or after `since`, in the mode its format says. */
function changedSince(since: string): DirectoryFilter {
  return modeOf(since) === 'csn'
    ? atLeast('entryCSN', since)
    : anyOf([atLeast('modifyTimestamp', since), atLeast('createTimestamp', since)]);
}

/** The entries of the user search and the watched groups changed at or after `since` (all without). */
async function readEntries(
  session: DirectorySession,
  search: FeedSearch,
  since: string | undefined,
  onEntry: (read: ReadEntry) => void,
): Promise<void> {
  const since_ = since === undefined ? [] : [changedSince(since)];
  const { users, groups } = search;
  await session.search(
    {
      baseDN: users.baseDN,
      scope: users.scope,
      filter: allOf([{ kind: 'configured', text: users.userFilter }, ...since_]),
      attributes: [...new Set([...users.identifierAttributes, ...CHANGE_ATTRIBUTES])],
      pageSize: search.pageSize,
      sizeLimit: 0,
    },
    (entry) => onEntry({ kind: 'user', entry }),
  );
  if (groups)
    await session.search(
      {
        baseDN: groups.baseDN,
        scope: 'sub',
        filter: allOf([{ kind: 'configured', text: groups.filter }, ...since_]),
        attributes: CHANGE_ATTRIBUTES,
        pageSize: search.pageSize,
        sizeLimit: 0,
      },
      (entry) => onEntry({ kind: 'group', entry }),
    );
}

/** The changes at the newest change time seen so far, in one mode. */
class NewestChanges {
  private newest: string | undefined;
  private entries: ReadEntry[] = [];

  constructor(private readonly mode: Mode) {}

  add(read: ReadEntry): void {
    const changedAt = changedAtOf(read.entry, this.mode);
    if (changedAt === undefined) return;
    const order = this.newest === undefined ? 1 : compareTimes(changedAt, this.newest);
    if (order > 0) {
      this.newest = changedAt;
      this.entries = [read];
    } else if (order === 0) this.entries.push(read);
  }

  get changes(): FeedChange[] {
    return changesOf(this.entries, this.mode);
  }
}

function changesOf(read: readonly ReadEntry[], mode: Mode): FeedChange[] {
  return read.flatMap(({ kind, entry }): FeedChange[] => {
    const change = changeOf(entry, mode);
    if (!change) return [];
    return kind === 'user' ? [{ ...change, kind, entry }] : [{ ...change, kind }];
  });
}

/** An entry's change facts; undefined when the server sent no change time (not readable to this account). */
function changeOf(entry: DirectoryEntry, mode: Mode) {
  const first = (name: string) => entry.attributes.get(name.toLowerCase())?.values[0];
  const csn = first('entryCSN');
  const changedAt = changedAtOf(entry, mode);
  if (changedAt === undefined) return undefined;
  return {
    id: first('entryUUID') ?? entry.dn.toLowerCase(),
    dn: entry.dn,
    changedAt,
    stamp: csn ?? changedAt,
  };
}

/** When an entry last changed, in the mode's terms. */
function changedAtOf(entry: DirectoryEntry, mode: Mode): string | undefined {
  const first = (name: string) => entry.attributes.get(name)?.values[0];
  return mode === 'csn' ? first('entrycsn') : newerTime(first('modifytimestamp'), first('createtimestamp'));
}

/**
 * Whether the entries applied at the watermark now show older change times. They come back with every
 * poll while untouched (the poll reads the watermark again); those that do not are looked up by id: gone
 * (deleted, moved out of scope) is fine, older means the directory was restored from a backup.
 */
async function wentBackInTime(
  session: DirectorySession,
  search: FeedSearch,
  position: FeedPosition,
  read: readonly FeedChange[],
  mode: Mode,
): Promise<boolean> {
  const back = new Set(read.map((change) => change.id));
  const missing = [
    ...new Set(position.appliedAtWatermark.map((key) => key.slice(0, key.lastIndexOf('@')))),
  ].filter((id) => !back.has(id) && !id.includes('='));
  const bases = [search.users.baseDN, ...(search.groups ? [search.groups.baseDN] : [])];
  for (let start = 0; start < missing.length; start += IDS_PER_SEARCH) {
    const ids = missing.slice(start, start + IDS_PER_SEARCH);
    for (const baseDN of bases) {
      let older = false;
      await session.search(
        {
          baseDN,
          scope: 'sub',
          filter: anyOf(ids.map((id) => equals('entryUUID', id))),
          attributes: CHANGE_ATTRIBUTES,
          pageSize: search.pageSize,
          sizeLimit: 0,
        },
        (entry) => {
          const change = changeOf(entry, mode);
          if (change && compareTimes(change.changedAt, position.watermark) < 0) older = true;
        },
      );
      if (older) return true;
    }
  }
  return false;
}
