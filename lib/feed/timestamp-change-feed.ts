import type { DirectoryEntry, DirectorySession } from '../ldap/directory';
import { allOf, anyOf, atLeast, equals, type DirectoryFilter } from '../ldap/filter';
import type { ChangeFeed, FeedChange, FeedRead, FeedSearch } from './change-feed';
import { compareTimes, newerTime, positionAfter, type FeedPosition } from './feed-position';

const CHANGE_ATTRIBUTES = ['modifyTimestamp', 'createTimestamp', 'entryUUID', 'entryCSN'];
/** Ids per restore check search. */
const IDS_PER_SEARCH = 100;

/**
 * The changed-entries feed of a directory that keeps modifyTimestamp and createTimestamp (OpenLDAP, and
 * most servers but Active Directory): every poll reads the entries changed at or after the watermark, the
 * watermark's second included, in the user search and the watched groups. Needs an ordering index on
 * modifyTimestamp and createTimestamp to stay cheap on a large directory (see the README).
 */
export class TimestampChangeFeed implements ChangeFeed {
  async start(session: DirectorySession, search: FeedSearch): Promise<FeedPosition | undefined> {
    const changes = await readChanges(session, search, undefined);
    let newest: string | undefined;
    for (const change of changes) newest = newerTime(newest, change.changedAt);
    return positionAfter(
      changes.filter((change) => newest !== undefined && compareTimes(change.changedAt, newest) === 0),
      undefined,
    );
  }

  async read(session: DirectorySession, search: FeedSearch, position: FeedPosition): Promise<FeedRead> {
    const changes = await readChanges(session, search, position.watermark);
    return { changes, restored: await wentBackInTime(session, search, position, changes) };
  }
}

async function readChanges(
  session: DirectorySession,
  search: FeedSearch,
  since: string | undefined,
): Promise<FeedChange[]> {
  const changedSince: DirectoryFilter[] =
    since === undefined
      ? []
      : [anyOf([atLeast('modifyTimestamp', since), atLeast('createTimestamp', since)])];
  const changes: FeedChange[] = [];
  const { users, groups } = search;
  await session.search(
    {
      baseDN: users.baseDN,
      scope: users.scope,
      filter: allOf([{ kind: 'configured', text: users.userFilter }, ...changedSince]),
      attributes: [...new Set([...users.identifierAttributes, ...CHANGE_ATTRIBUTES])],
      pageSize: search.pageSize,
      sizeLimit: 0,
    },
    (entry) => {
      const change = changeOf(entry);
      if (change) changes.push({ ...change, kind: 'user', entry });
    },
  );
  if (groups)
    await session.search(
      {
        baseDN: groups.baseDN,
        scope: 'sub',
        filter: allOf([{ kind: 'configured', text: groups.filter }, ...changedSince]),
        attributes: CHANGE_ATTRIBUTES,
        pageSize: search.pageSize,
        sizeLimit: 0,
      },
      (entry) => {
        const change = changeOf(entry);
        if (change) changes.push({ ...change, kind: 'group' });
      },
    );
  return changes;
}

/** An entry's change facts; undefined when the server sent no change time (not readable to this account). */
function changeOf(entry: DirectoryEntry) {
  const first = (name: string) => entry.attributes.get(name.toLowerCase())?.values[0];
  const changedAt = newerTime(first('modifyTimestamp'), first('createTimestamp'));
  if (changedAt === undefined) return undefined;
  return {
    id: first('entryUUID') ?? entry.dn.toLowerCase(),
    dn: entry.dn,
    changedAt,
    stamp: first('entryCSN') ?? changedAt,
  };
}

/**
 * Whether the entries applied at the watermark now show older change times. They come back with every
 * poll while untouched (the poll reads the watermark's second again); those that do not are looked up by
 * id: gone (deleted, moved out of scope) is fine, older means the directory was restored from a backup.
 */
async function wentBackInTime(
  session: DirectorySession,
  search: FeedSearch,
  position: FeedPosition,
  read: readonly FeedChange[],
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
          const change = changeOf(entry);
          if (change && compareTimes(change.changedAt, position.watermark) < 0) older = true;
        },
      );
      if (older) return true;
    }
  }
  return false;
}
