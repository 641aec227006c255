import pino, { type DestinationStream } from 'pino';

/** The logging port: the subset of pino's API the module uses (a pino logger fits as it is). */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/**
 * Secrets the module never logs; redacted anyway should a host's fields or a future line carry one.
 * Attribute values are kept out of every line above debug by the code that writes them.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'bindPassword',
  '*.bindPassword',
  'token',
  '*.token',
  'authToken',
  '*.authToken',
  'headers["x-auth-token"]',
  '*.headers["x-auth-token"]',
];

/** The logger used when the host passes none: pino, JSON lines at info and above, on stderr by default. */
export function createDefaultLogger(destination: DestinationStream = pino.destination(2)): Logger {
  return pino(
    { name: 'abac-ldap-sync', level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
