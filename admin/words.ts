// Pure: how the page words counts, statuses and pages. No DOM here.

/** A count and its noun, in the plural unless it is one: "1 user", "3,004 users". */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString('en')} ${count === 1 ? singular : plural}`;
}

/** What a user's status means, in words (the API's key stays in the row's data for scripts). */
const STATUS_LABELS: Record<string, string> = {
  updated: 'values changed',
  cleared: 'all values removed',
  unchanged: 'values unchanged',
  notFoundInLdap: 'not in the directory',
  failed: 'failed',
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

/** The labels of a report's summary figures (counts of users, but rooms), in the order the page shows them. */
const SUMMARY_LABELS: [key: string, one: string, many: string][] = [
  ['requested', 'named', 'named'],
  ['matched', 'matched', 'matched'],
  ['updated', 'values changed', 'values changed'],
  ['cleared', 'all values removed', 'all values removed'],
  ['unchanged', 'unchanged', 'unchanged'],
  ['notFoundInLdap', 'not in the directory', 'not in the directory'],
  ['failed', 'failed', 'failed'],
  ['roomsRevoked', 'room membership ended', 'room memberships ended'],
];

/** A report's summary as figures with their labels, known keys first and in words. */
export function summaryFigures(
  summary: Record<string, number>,
): { key: string; count: string; label: string }[] {
  const known = SUMMARY_LABELS.filter(([key]) => key in summary).map(([key, one, many]) => ({
    key,
    count: summary[key]!.toLocaleString('en'),
    label: summary[key] === 1 ? one : many,
  }));
  const others = Object.keys(summary)
    .filter((key) => !SUMMARY_LABELS.some(([label]) => label === key))
    .map((key) => ({ key, count: summary[key]!.toLocaleString('en'), label: key }));
  return [...known, ...others];
}

/**
 * Where a page of a list sits: "51–100 of 3,004 · page 2 of 61". `first` counts from 0; `shown` is how
 * many the page holds.
 */
export function pageText(first: number, shown: number, total: number, pageSize: number): string {
  if (total === 0 || shown === 0) return 'Nothing matches';
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.floor(first / pageSize) + 1;
  const range = `${(first + 1).toLocaleString('en')}–${(first + shown).toLocaleString('en')}`;
  return `${range} of ${total.toLocaleString('en')} · page ${page} of ${pages}`;
}

/** The plan review's filters: what each shows, and the query that selects it. */
export const PLAN_FILTERS = [
  { value: '', label: 'every change', query: {} },
  { value: 'losesRooms', label: 'loses a room', query: { losesRooms: 'true' } },
  { value: 'updated', label: 'values changed', query: { status: 'updated' } },
  { value: 'cleared', label: 'all values removed', query: { status: 'cleared' } },
  { value: 'unchanged', label: 'only leaves rooms', query: { status: 'unchanged' } },
  { value: 'stale', label: 'left alone by an apply', query: { stale: 'true' } },
] as const;

export function planFilterQuery(value: string): Record<string, string> {
  return { ...(PLAN_FILTERS.find((filter) => filter.value === value)?.query ?? {}) };
}

/** How the page names each identifier list, singular: "nobody@example.org (email)". */
const LIST_LABELS: Record<string, string> = {
  usernames: 'username',
  emails: 'email',
  ids: 'user id',
  ldapIds: 'LDAP id',
};

export function listLabel(list: string): string {
  return LIST_LABELS[list] ?? list;
}

/** What a preview says applying it would do, as the confirmation asks it, and whether it takes anything away. */
export function applyQuestion(preview: {
  summary: Record<string, number>;
  users: { status: string; removed?: unknown[] }[];
}): { text: string; takesAway: boolean } {
  const changing = (preview.summary.updated ?? 0) + (preview.summary.cleared ?? 0);
  const losing = preview.users.filter(
    (user) => user.status === 'cleared' || (user.removed?.length ?? 0) > 0,
  ).length;
  const rooms = preview.summary.roomsRevoked ?? 0;
  const one = (count: number, singular: string, plural: string) => (count === 1 ? singular : plural);
  return {
    text:
      `Apply the previewed sync of ${counted(preview.users.length, 'user')}: ` +
      `${counted(changing, 'user')} ${one(changing, 'changes', 'change')}, ` +
      `${counted(losing, 'user')} ${one(losing, 'loses', 'lose')} values and ` +
      `${counted(rooms, 'room membership')} ${one(rooms, 'ends', 'end')}?`,
    takesAway: losing > 0 || rooms > 0,
  };
}
