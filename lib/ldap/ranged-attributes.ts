import type { DirectoryEntry, DirectorySearch } from './directory';

/**
 * Active Directory returns a large multi-valued attribute (member, memberOf) in ranges: the entry carries
 * `member;range=0-1499`, and the rest must be asked for as `member;range=1500-*` until a range ends in `*`.
 */
export interface AttributeRange {
  /** The attribute's name without the range option (other options kept), lower-cased. */
  name: string;
  start: number;
  /** The last index returned, or '*' when this range is the last. */
  end: number | '*';
}

const RANGE_OPTION = /;range=(\d+)-(\d+|\*)(?=;|$)/i;

/** The range an attribute description carries (`memberOf;range=0-1499`), or undefined. */
export function parseRange(description: string): AttributeRange | undefined {
  const match = RANGE_OPTION.exec(description);
  if (!match) return undefined;
  const [option, start, end] = match as unknown as [string, string, string];
  return {
    name: description.replace(option, '').toLowerCase(),
    start: Number(start),
    end: end === '*' ? '*' : Number(end),
  };
}

/** The attribute description that asks for the values after `range`, or undefined when it was the last. */
export function nextRangeRequest(range: AttributeRange): string | undefined {
  if (range.end === '*') return undefined;
  return `${range.name};range=${range.end + 1}-*`;
}

/** The base search that asks the entry `dn` for one attribute description (a range of an attribute). */
export function rangeSearch(dn: string, description: string): DirectorySearch {
  return {
    baseDN: dn,
    scope: 'base',
    filter: { kind: 'configured', text: '(objectClass=*)' },
    attributes: [description],
    // One entry: no paging.
    pageSize: 1,
    sizeLimit: 1,
  };
}

/**
 * Reads the rest of each of an entry's `ranges`, range after range, until the server sends the last.
 * `readRange` asks the entry for one attribute description and resolves with what it sent (each type with
 * its values); `append` adds a range's values to the attribute.
 */
export async function readRemainingRanges<Values>(
  ranges: readonly AttributeRange[],
  readRange: (description: string) => Promise<[type: string, values: Values][]>,
  append: (name: string, values: Values) => void,
): Promise<void> {
  for (const first of ranges) {
    let request = nextRangeRequest(first);
    while (request) {
      let next: string | undefined;
      for (const [type, values] of await readRange(request)) {
        const range = parseRange(type);
        if (range?.name !== first.name) continue;
        append(first.name, values);
        next = nextRangeRequest(range);
      }
      // A server that answers a range request without the range ends the loop rather than repeating it.
      request = next !== request ? next : undefined;
    }
  }
}

/** An entry as decoded, with the attributes that came in a range with more to read. */
export interface EntryWithRanges {
  entry: DirectoryEntry;
  ranges: AttributeRange[];
}

/**
 * Delivers each entry `search` sends as it comes when it is whole; an entry with ranges left is held and
 * delivered once `readRanges` has read the rest of them, after the search has ended.
 */
export async function deliverWhole<Raw>(
  search: (onRaw: (raw: Raw) => void) => Promise<void>,
  decode: (raw: Raw) => EntryWithRanges,
  readRanges: (held: EntryWithRanges) => Promise<void>,
  onEntry: (entry: DirectoryEntry) => void,
): Promise<void> {
  const held: EntryWithRanges[] = [];
  await search((raw) => {
    const decoded = decode(raw);
    if (decoded.ranges.length === 0) onEntry(decoded.entry);
    else held.push(decoded);
  });
  for (const decoded of held) {
    await readRanges(decoded);
    onEntry(decoded.entry);
  }
}
