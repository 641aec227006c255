import type { RevocationEntry, RevocationLedger } from '../../lib/jobs/revocation-ledger';

/** The guard's window in memory, for unit tests without servers (the contract test runs it beside MongoDB's). */
export class MemoryRevocationLedger implements RevocationLedger {
  readonly entries = new Map<string, Omit<RevocationEntry, 'id'>>();

  async enter({ id, userIds, at }: RevocationEntry): Promise<void> {
    this.entries.set(id, { userIds: [...userIds], at });
  }

  async usersSince(since: Date, exceptId?: string): Promise<Set<string>> {
    const users = new Set<string>();
    for (const [id, entry] of this.entries)
      if (id !== exceptId && entry.at.getTime() >= since.getTime())
        for (const userId of entry.userIds) users.add(userId);
    return users;
  }

  async remove(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async forgetBefore(before: Date): Promise<void> {
    for (const [id, entry] of this.entries)
      if (entry.at.getTime() < before.getTime()) this.entries.delete(id);
  }
}
