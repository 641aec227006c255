import type { AbacAttribute } from './abac-attribute';
import { AttributeMapInvalidError } from '../errors';
import type { DirectoryAttribute, DirectoryEntry } from '../ldap/directory';

const ABAC_KEY = /^[A-Za-z0-9_-]+$/;
/**
 * LDAP attribute descriptions by name, optionally with options (e.g. objectGUID;binary). Not OIDs: servers
 * return attributes under their names, so an OID in the map would match nothing and clear everyone.
 */
const LDAP_ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]*(?:;[A-Za-z0-9-]+)*$/;
const OID = /^\d+(?:\.\d+)+(?:;[A-Za-z0-9-]+)*$/;

export interface AttributeMapping {
  /** Lowercased LDAP attribute name → ABAC key, in the order the setting lists them. */
  readonly rules: readonly { ldapAttribute: string; abacKey: string }[];
  /** The attributes a search must request (memberOf is operational: it must be asked for by name). */
  readonly ldapAttributes: readonly string[];
  /** The LDAP attribute names as the setting spells them, for messages. */
  readonly namesAsGiven: readonly string[];
}

/** Parses LDAP_ABAC_AttributeMap (a JSON text or an object) once per settings change. */
export function parseAttributeMap(raw: unknown): AttributeMapping {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new AttributeMapInvalidError('LDAP_ABAC_AttributeMap is not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AttributeMapInvalidError('LDAP_ABAC_AttributeMap must be a JSON object');
  }
  const entries = Object.entries(value);
  if (entries.length === 0) {
    throw new AttributeMapInvalidError('LDAP_ABAC_AttributeMap is empty: a sync would clear every attribute');
  }
  const seen = new Set<string>();
  const rules = entries.map(([ldapAttribute, abacKey]) => {
    if (OID.test(ldapAttribute)) {
      throw new AttributeMapInvalidError(
        `"${ldapAttribute}" is an OID: name the attribute as the directory returns it (e.g. departmentNumber)`,
      );
    }
    if (!LDAP_ATTRIBUTE.test(ldapAttribute)) {
      throw new AttributeMapInvalidError(`"${ldapAttribute}" is not an LDAP attribute name`);
    }
    if (typeof abacKey !== 'string' || !ABAC_KEY.test(abacKey)) {
      throw new AttributeMapInvalidError(`the ABAC key for "${ldapAttribute}" must match ${ABAC_KEY.source}`);
    }
    const name = ldapAttribute.toLowerCase();
    if (seen.has(name)) throw new AttributeMapInvalidError(`"${ldapAttribute}" is mapped twice`);
    seen.add(name);
    return { ldapAttribute: name, abacKey };
  });
  return {
    rules,
    ldapAttributes: rules.map((rule) => rule.ldapAttribute),
    namesAsGiven: entries.map(([ldapAttribute]) => ldapAttribute),
  };
}

/**
 * Applies the mapping to one entry: values trimmed, blanks dropped, duplicates removed in order of first
 * appearance, several attributes mapped to one key merged into it; binary identifiers decoded.
 */
export function mapEntry(entry: DirectoryEntry, mapping: AttributeMapping): AbacAttribute[] {
  const valuesByKey = new Map<string, string[]>();
  for (const { ldapAttribute, abacKey } of mapping.rules) {
    const attribute = entry.attributes.get(ldapAttribute.replace(/;binary$/, ''));
    if (!attribute) continue;
    const values = valuesByKey.get(abacKey) ?? [];
    for (const value of decodeValues(ldapAttribute, attribute)) {
      const trimmed = value.trim();
      if (trimmed !== '' && !values.includes(trimmed)) values.push(trimmed);
    }
    valuesByKey.set(abacKey, values);
  }
  return [...valuesByKey].filter(([, values]) => values.length > 0).map(([key, values]) => ({ key, values }));
}

function decodeValues(ldapAttribute: string, attribute: DirectoryAttribute): string[] {
  const name = ldapAttribute.replace(/;binary$/, '');
  if (name === 'objectguid') return attribute.buffers.map(formatGuid);
  if (name === 'objectsid') return attribute.buffers.map(formatSid);
  return attribute.values;
}

/** Active Directory's GUID byte order: the first three groups are little-endian. */
export function formatGuid(bytes: Buffer): string {
  if (bytes.length !== 16) return bytes.toString('hex');
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Buffer.from(bytes.subarray(from, to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-');
}

/** S-<revision>-<48-bit authority>-<sub-authorities, 32-bit little-endian>. */
export function formatSid(bytes: Buffer): string {
  if (bytes.length < 8) return bytes.toString('hex');
  const revision = bytes.readUInt8(0);
  const count = bytes.readUInt8(1);
  if (bytes.length < 8 + count * 4) return bytes.toString('hex');
  const authority = bytes.readUIntBE(2, 6);
  const subAuthorities = Array.from({ length: count }, (_, index) => bytes.readUInt32LE(8 + index * 4));
  return ['S', revision, authority, ...subAuthorities].join('-');
}

/** Values of each key as sets: attribute lists that differ only in order are the same. */
export function sameAttributes(left: readonly AbacAttribute[], right: readonly AbacAttribute[]): boolean {
  if (left.length !== right.length) return false;
  const rightByKey = new Map(right.map((attribute) => [attribute.key, new Set(attribute.values)]));
  return left.every((attribute) => {
    const values = rightByKey.get(attribute.key);
    const leftValues = new Set(attribute.values);
    return (
      values !== undefined && values.size === leftValues.size && [...leftValues].every((v) => values.has(v))
    );
  });
}

export interface AttributeDiff {
  added: AbacAttribute[];
  removed: AbacAttribute[];
}

export function diffAttributes(
  before: readonly AbacAttribute[],
  after: readonly AbacAttribute[],
): AttributeDiff {
  return { added: missingFrom(before, after), removed: missingFrom(after, before) };
}

/** The values of `of` that `base` lacks, by key. */
function missingFrom(base: readonly AbacAttribute[], of: readonly AbacAttribute[]): AbacAttribute[] {
  const baseByKey = new Map(base.map((attribute) => [attribute.key, new Set(attribute.values)]));
  return of
    .map(({ key, values }) => ({ key, values: values.filter((value) => !baseByKey.get(key)?.has(value)) }))
    .filter((attribute) => attribute.values.length > 0);
}

/** A room admits a user only if, for every room attribute, the user holds a superset of its values. */
export function satisfies(
  userAttributes: readonly AbacAttribute[],
  roomAttributes: readonly AbacAttribute[],
): boolean {
  const userByKey = new Map(userAttributes.map((attribute) => [attribute.key, new Set(attribute.values)]));
  return roomAttributes.every(({ key, values }) => {
    const held = userByKey.get(key);
    return held !== undefined && values.every((value) => held.has(value));
  });
}
