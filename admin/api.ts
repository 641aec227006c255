// The page talks to the module's own routes only, with the admin's X-User-Id / X-Auth-Token.
import { mountOf } from './links';

export type { Credentials } from './links';
import type { Credentials } from './links';

export interface ApiError {
  status: number;
  code: string;
  message: string;
  /** A 429's Retry-After. */
  retryAfterSeconds?: number;
}

const ADVICE: Record<number, string> = {
  401: 'Sign in again: the user id or token was not accepted.',
  403: 'This account lacks the permissions the sync needs (an admin’s role grants them).',
  429: 'Too many requests: wait a moment and try again.',
  503: 'A server the sync needs is unavailable: nothing was written; try again shortly.',
};

export function adviceFor(error: ApiError): string {
  return ADVICE[error.status] ?? '';
}

/**
 * Raised on the window whenever a route answers 401: the page signs out at once, so nothing goes on
 * reading with credentials the server refused (each refusal counts against the failed-login limit).
 */
export const CREDENTIALS_REFUSED = 'abac-credentials-refused';

/** Calls a route; rejects with the module's own error code and message (never a stack). */
export async function call<T>(
  credentials: Credentials,
  path: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; requestId?: string } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${mountOf(window.location.pathname)}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'X-User-Id': credentials.userId,
        'X-Auth-Token': credentials.token,
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(init.requestId ? { 'X-Request-Id': init.requestId } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch {
    throw { status: 0, code: 'error-network', message: 'The server could not be reached.' } as ApiError;
  }
  const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new Event(CREDENTIALS_REFUSED));
    const retryAfter = Number(response.headers.get('Retry-After'));
    throw {
      status: response.status,
      code: body.error ?? `http-${response.status}`,
      message: body.message ?? response.statusText,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    } as ApiError;
  }
  return body as T;
}

/** Raised with a run (`detail`) the runs list is to follow: an undo planned from elsewhere on the page. */
export const FOLLOW_RUN = 'abac-follow-run';

/** Plans the undo of a change set; the run that plans it is handed to the runs list to follow. */
export async function planUndo(
  credentials: Credentials,
  target: { jobId: string } | { requestId: string },
): Promise<{ _id: string }> {
  const { job } = await call<{ job: { _id: string } }>(credentials, '/abac/users/sync/undo', {
    method: 'POST',
    body: target,
  });
  window.dispatchEvent(new CustomEvent(FOLLOW_RUN, { detail: job }));
  return job;
}

const STORED = { userId: 'abacAdmin.userId', token: 'abacAdmin.token' };

/**
 * The credentials the chat server's web client keeps (Rocket.Chat: Meteor.userId and Meteor.loginToken in
 * localStorage, same origin), else the ones typed into the page for this tab (sessionStorage only).
 */
export function storedCredentials(): Credentials | undefined {
  const fromClient = {
    userId: localStorage.getItem('Meteor.userId'),
    token: localStorage.getItem('Meteor.loginToken'),
  };
  if (fromClient.userId && fromClient.token) return { userId: fromClient.userId, token: fromClient.token };
  const userId = sessionStorage.getItem(STORED.userId);
  const token = sessionStorage.getItem(STORED.token);
  return userId && token ? { userId, token } : undefined;
}

export function keepCredentials(credentials: Credentials): void {
  sessionStorage.setItem(STORED.userId, credentials.userId);
  sessionStorage.setItem(STORED.token, credentials.token);
}

export function forgetCredentials(): void {
  sessionStorage.removeItem(STORED.userId);
  sessionStorage.removeItem(STORED.token);
}
