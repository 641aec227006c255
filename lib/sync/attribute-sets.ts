import type { AbacAttribute } from './abac-attribute';

/**
 * One shared copy of each distinct attribute set (the same keys and values in the same order): a
 * directory-wide read keeps one set per user, and most users share theirs with many others (a department,
 * an employee type). The copies are frozen, so a change meant for one user cannot reach the others.
 */
export class AttributeSets {
  private readonly byHash = new Map<number, AbacAttribute[][]>();

  /** The shared copy of `attributes` (frozen; the first set seen with this content becomes it). */
  shared(attributes: AbacAttribute[]): AbacAttribute[] {
    const hash = hashOf(attributes);
    const bucket = this.byHash.get(hash);
    const known = bucket?.find((candidate) => sameInOrder(candidate, attributes));
    if (known) return known;
    const frozen = Object.freeze(
      attributes.map(({ key, values }) => Object.freeze({ key, values: Object.freeze([...values]) })),
    ) as AbacAttribute[];
    if (bucket) bucket.push(frozen);
    else this.byHash.set(hash, [frozen]);
    return frozen;
  }

  /** How many distinct sets are kept. */
  get size(): number {
    let size = 0;
    for (const bucket of this.byHash.values()) size += bucket.length;
    return size;
  }
}

/** FNV-1a over the keys and values, with separators no key or value holds. */
function hashOf(attributes: readonly AbacAttribute[]): number {
  let hash = 0x811c9dc5;
  const add = (text: string) => {
    for (let index = 0; index < text.length; index += 1) {
      hash ^= text.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193);
    }
  };
  for (const { key, values } of attributes) {
    add(key);
    add('\u0000');
    for (const value of values) {
      add(value);
      add('\u0001');
    }
    add('\u0002');
  }
  return hash >>> 0;
}

function sameInOrder(left: readonly AbacAttribute[], right: readonly AbacAttribute[]): boolean {
  return (
    left.length === right.length &&
    left.every((attribute, index) => {
      const other = right[index]!;
      return (
        attribute.key === other.key &&
        attribute.values.length === other.values.length &&
        attribute.values.every((value, at) => value === other.values[at])
      );
    })
  );
}
