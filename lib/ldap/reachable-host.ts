import type { ConnectionOptions } from 'node:tls';
import { LdapUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type { DirectorySession, LdapConnectionSettings } from './directory';

/**
 * Opens a session on the first of `settings.hosts` that accepts it (the connection, TLS and the bind), in
 * order, logging each one that does not; rejects with LdapUnavailableError naming them all. `openAt` is the
 * client's own way of opening one URL.
 */
export async function openFirstReachable(
  settings: LdapConnectionSettings,
  logger: Logger,
  openAt: (url: string, host: string) => Promise<DirectorySession>,
): Promise<DirectorySession> {
  const failures: string[] = [];
  for (const host of settings.hosts) {
    const url = `${settings.encryption === 'ssl' ? 'ldaps' : 'ldap'}://${formatHost(host)}:${settings.port}`;
    try {
      return await openAt(url, host);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failures.push(`${url}: ${reason}`);
      logger.warn({ url, reason }, 'LDAP server unavailable, trying the next one');
    }
  }
  throw new LdapUnavailableError(`No LDAP server could be used (${failures.join('; ')})`);
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The TLS checks for `host`: the configured CA, and the certificate's name when the host is a name. */
export function tlsOptions(host: string, settings: LdapConnectionSettings): ConnectionOptions {
  return {
    ...(settings.caCertPem ? { ca: [settings.caCertPem] } : {}),
    rejectUnauthorized: settings.rejectUnauthorized,
    ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
  };
}
