/** One entry of an LDIF file: its DN and its attributes, names as written. */
export interface LdifEntry {
  dn: string;
  attributes: Record<string, string[]>;
}

/**
 * Reads the content records of an LDIF file (RFC 2849): folded lines, comments and base64 values (`::`).
 * Enough for the demo's sample directory; change records and URLs (`:<`) are rejected.
 */
export function parseLdif(text: string): LdifEntry[] {
  const unfolded = text.replace(/\r\n/g, '\n').replace(/\n /g, '');
  const entries: LdifEntry[] = [];
  for (const block of unfolded.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    if (lines.length === 0) continue;
    let dn: string | undefined;
    const attributes: Record<string, string[]> = {};
    for (const line of lines) {
      const match = /^([A-Za-z][\w;-]*)(:<|::?)\s?(.*)$/.exec(line);
      if (!match) throw new Error(`LDIF: cannot read line "${line}"`);
      const [, name = '', separator, raw = ''] = match;
      if (separator === ':<') throw new Error(`LDIF: URL values are not supported ("${name}")`);
      const value = separator === '::' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      if (name.toLowerCase() === 'dn') dn = value;
      else if (name.toLowerCase() === 'changetype') throw new Error('LDIF: change records are not supported');
      else (attributes[name] ??= []).push(value);
    }
    if (!dn) throw new Error(`LDIF: a record has no dn ("${lines[0]}")`);
    entries.push({ dn, attributes });
  }
  return entries;
}
