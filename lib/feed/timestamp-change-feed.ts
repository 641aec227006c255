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
    const entries = await readEntries(session, search, undefined);
    const mode: Mode =
      entries.length > 0 && entries.every(({ entry }) => entry.attributes.has('entrycsn')) ? 'csn' : 'time';
    const changes = changesOf(entries, mode);
    let newest: string | undefined;
    for (const change of changes) newest = newerTime(newest, change.changedAt);
    return positionAfter(
      changes.filter((change) => newest !== undefined && compareTimes(change.changedAt, newest) === 0),
      undefined,
    );
  }

  async read(session: DirectorySession, search: FeedSearch, position: FeedPosition): Promise<FeedRead> {
    const mode = modeOf(position.watermark);
    const changes = changesOf(await readEntries(session, search, readStart(position)), mode);
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

async function readEntries(
  session: DirectorySession,
  search: FeedSearch,
  since: string | undefined,
): Promise<ReadEntry[]> {
  const since_ = since === undefined ? [] : [changedSince(since)];
  const read: ReadEntry[] = [];
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
    (entry) => read.push({ kind: 'user', entry }),
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
      (entry) => read.push({ kind: 'group', entry }),
    );
  return read;
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
  const changedAt = mode === 'csn' ? csn : newerTime(first('modifyTimestamp'), first('createTimestamp'));
  if (changedAt === undefined) return undefined;
  return {
    id: first('entryUUID') ?? entry.dn.toLowerCase(),
    dn: entry.dn,
    changedAt,
    stamp: csn ?? changedAt,
  };
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
