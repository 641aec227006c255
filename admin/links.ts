// Pure: where the routes are, and the demo link's sign-in. No DOM here.

export interface Credentials {
  userId: string;
  token: string;
}

/** The router's mount: the page is served at <mount>/abac/admin. */
export function mountOf(pathname: string): string {
  return pathname.replace(/\/abac\/admin\/?$/, '');
}

/**
 * The demo host's one-click sign-in: `#user=<id>&token=<token>` in the page's link, honoured only when the
 * host switched it on (never in production). The fragment never reaches a server or its logs.
 */
export function credentialsFromLink(hash: string, allowed: boolean): Credentials | undefined {
  if (!allowed) return undefined;
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const userId = params.get('user');
  const token = params.get('token');
  return userId && token ? { userId, token } : undefined;
}
