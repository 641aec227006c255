import type { DirectoryEntry, DirectorySession, SearchScope } from '../ldap/directory';
import type { ChangedEntry, FeedPosition } from './feed-position';

/** Where the feed looks: the user search (base, scope, filter) and, optionally, the groups. */
export interface FeedSearch {
  users: {
    baseDN: string;
    scope: SearchScope;
    /** LDAP_User_Search_Filter (configuration, parsed by the adapter). */
    userFilter: string;
    /** The attributes that identify a chat user: LDAP_User_Search_Field and LDAP_Unique_Identifier_Field. */
    identifierAttributes: string[];
  };
  /**
   * Groups whose membership feeds mapped values through memberOf. The memberof overlay changes a member's
   * memberOf without touching the member's modifyTimestamp (measured on slapd 2.5), so groups are watched
   * themselves.
   */
  groups?: { baseDN: string; filter: string };
  pageSize: number;
}

export interface ChangedUserEntry extends ChangedEntry {
  kind: 'user';
  entry: DirectoryEntry;
}

export interface ChangedGroupEntry extends ChangedEntry {
  kind: 'group';
}

export type FeedChange = ChangedUserEntry | ChangedGroupEntry;

export interface FeedRead {
  /**
   * Every user and group entry changed at or after the position's readFrom (the overlap behind the
   * watermark, the boundary second again); newChanges picks the ones not applied yet.
   */
  changes: FeedChange[];
  /**
   * The directory went back in time: an entry applied at the watermark now shows an older change time (a
   * restore from backup). The position no longer means anything; a full run is needed.
   */
  restored: boolean;
}

/**
 * A directory's changed entries, read by polling. The OpenLDAP implementation polls modifyTimestamp and
 * createTimestamp; Active Directory's uSNChanged and RFC 4533 syncrepl would be other implementations of
 * the same two calls (see docs/feed.md).
 */
export interface ChangeFeed {
  /** Where a feed without a position starts: the directory's newest change now (nothing is applied). */
  start(session: DirectorySession, search: FeedSearch): Promise<FeedPosition | undefined>;
  read(session: DirectorySession, search: FeedSearch, position: FeedPosition): Promise<FeedRead>;
}
