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
