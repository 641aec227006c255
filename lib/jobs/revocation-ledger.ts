/** One unattended plan's revocations, entered in the guard's window before the plan is applied. */
export interface RevocationEntry {
  /** Stable per plan (`run:<jobId>`, `feed:<pollId>`): entering the same plan again replaces its entry. */
  id: string;
  /** The users the plan takes at least one value from. */
  userIds: readonly string[];
  at: Date;
}

/**
 * Where the guard's sliding window is kept, shared by every process (MongoDB adapter:
 * mongo/mongo-revocation-ledger.ts). Entries are added before their changes are applied, so a revocation
 * is never missing from the window; one whose plan was stopped is removed. A person counts once however
 * many entries name them.
 */
export interface RevocationLedger {
  /** Adds the entry, or replaces the one with its id (a reader meanwhile sees the old users or the new). */
  enter(entry: RevocationEntry): Promise<void>;
  /** The users named by entries made at or after `since`, leaving out the entry `exceptId`. */
  usersSince(since: Date, exceptId?: string): Promise<Set<string>>;
  /** Removes an entry (its plan was not applied); removing one that is gone does nothing. */
  remove(id: string): Promise<void>;
  /** Removes the entries made before `before` (the embedded server has no TTL indexes). */
  forgetBefore(before: Date): Promise<void>;
}
