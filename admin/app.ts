import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import {
  call,
  CREDENTIALS_REFUSED,
  forgetCredentials,
  keepCredentials,
  storedCredentials,
  type ApiError,
  type Credentials,
} from './api';
import { FeedCard } from './feed';
import { credentialsFromLink } from './links';
import { Runs } from './runs';
import { SyncUsers } from './sync-users';
import { ErrorBox, html } from './ui';

interface SignedInUser {
  _id: string;
  username: string;
}

/** Checks the credentials once, keeping them for the tab only when the server accepts them. */
function SignIn({
  onSignedIn,
  refused,
}: {
  onSignedIn: (credentials: Credentials, user: SignedInUser) => void;
  /** Why the page signed out by itself (a 401 while signed in). */
  refused: ApiError | undefined;
}) {
  const [userId, setUserId] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>(refused);
  const [checking, setChecking] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const credentials = { userId: userId.trim(), token: token.trim() };
    setChecking(true);
    setError(undefined);
    try {
      const { user } = await call<{ user: SignedInUser }>(credentials, '/abac/users/sync/me');
      keepCredentials(credentials);
      onSignedIn(credentials, user);
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setChecking(false);
    }
  };
  return html`<form class="card" onSubmit=${submit} aria-labelledby="sign-in-title">
    <h2 id="sign-in-title">Sign in</h2>
    <p>Your chat administrator’s user id and login token (kept for this tab only).</p>
    <label for="user-id">User id</label>
    <input
      id="user-id"
      autocomplete="off"
      value=${userId}
      onInput=${(e: Event) => setUserId((e.target as HTMLInputElement).value)}
      required
    />
    <label for="auth-token">Login token</label>
    <input
      id="auth-token"
      type="password"
      autocomplete="off"
      value=${token}
      onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
      required
    />
    <${ErrorBox} error=${error} />
    <button type="submit" disabled=${checking}>Sign in</button>
  </form>`;
}

/** A demo link's credentials, kept for the tab and taken out of the address bar at once. */
function credentialsOnLoad(): Credentials | undefined {
  const allowed =
    document.querySelector('meta[name="abac-sign-in-from-link"]')?.getAttribute('content') === 'on';
  const fromLink = credentialsFromLink(window.location.hash, allowed);
  if (fromLink) {
    keepCredentials(fromLink);
    window.history.replaceState(null, '', window.location.pathname);
  }
  return storedCredentials();
}

function App() {
  const [credentials, setCredentials] = useState<Credentials | undefined>(credentialsOnLoad());
  const [user, setUser] = useState<SignedInUser | undefined>();
  const [refused, setRefused] = useState<ApiError | undefined>();
  const signOut = (why?: ApiError) => {
    forgetCredentials();
    setCredentials(undefined);
    setUser(undefined);
    setRefused(why);
  };
  useEffect(() => {
    const onRefused = () =>
      signOut({
        status: 401,
        code: 'error-unauthorized',
        message: 'The server no longer accepts these credentials.',
      });
    window.addEventListener(CREDENTIALS_REFUSED, onRefused);
    return () => window.removeEventListener(CREDENTIALS_REFUSED, onRefused);
  }, []);
  // Credentials kept from before (a reload, the demo's link): whom they name, checked once.
  useEffect(() => {
    if (credentials && !user)
      call<{ user: SignedInUser }>(credentials, '/abac/users/sync/me').then(
        (answer) => setUser(answer.user),
        () => undefined,
      );
  }, [credentials]);
  return html`<main>
    <h1>ABAC attributes from LDAP</h1>
    ${
      credentials
        ? html`<p class="signed-in">
              Signed in as <b>${user?.username ?? credentials.userId}</b>
              <button type="button" class="link" onClick=${() => signOut()}>Sign out</button>
            </p>
            <${SyncUsers} credentials=${credentials} />
            <${Runs} credentials=${credentials} />
            <${FeedCard} credentials=${credentials} />`
        : html`<${SignIn}
            refused=${refused}
            onSignedIn=${(signedIn: Credentials, who: SignedInUser) => {
              setRefused(undefined);
              setUser(who);
              setCredentials(signedIn);
            }}
          />`
    }
  </main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
