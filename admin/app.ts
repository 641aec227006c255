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
import { MAX_PER_LIST, requestBody, splitIdentifiers } from './identifiers';
import { FeedCard } from './feed';
import { credentialsFromLink } from './links';
import { Runs } from './runs';
import { ErrorBox, html, UserChangesTable, type Attribute } from './ui';
import { statusLabel, summaryFigures } from './words';

interface UserResult {
  _id: string;
  username: string;
  status: string;
  added?: Attribute[];
  removed?: Attribute[];
  roomsRevoked?: { _id: string; name: string }[];
  error?: string;
}
interface Report {
  dryRun: boolean;
  summary: Record<string, number>;
  users: UserResult[];
  unmatched: Record<string, string[]>;
}

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

function ReportView({ report }: { report: Report }) {
  const unmatched = Object.entries(report.unmatched).flatMap(([list, items]) =>
    items.map((item) => `${item} (${list})`),
  );
  return html`<section class="card" aria-labelledby="report-title">
    <h2 id="report-title">${report.dryRun ? 'Preview: nothing was written' : 'Applied'}</h2>
    <p class="summary">
      ${summaryFigures(report.summary).map(
        (figure) => html`<span data-figure=${figure.key}><b>${figure.count}</b> ${figure.label}</span> `,
      )}
    </p>
    <${UserChangesTable}
      caption="One row per user"
      captionClass="visually-hidden"
      roomsHeading=${report.dryRun ? 'Rooms they would leave' : 'Removed from rooms'}
      rows=${report.users.map((user) => ({
        username: user.username,
        status: `${statusLabel(user.status)}${user.error ? ` (${user.error})` : ''}`,
        statusClass: `status status-${user.status}`,
        added: user.added,
        removed: user.removed,
        rooms: user.roomsRevoked ?? [],
      }))}
    />
    ${unmatched.length > 0 ? html`<p class="unmatched">No user matched: ${unmatched.join(', ')}</p>` : null}
  </section>`;
}

function SyncUsers({ credentials }: { credentials: Credentials }) {
  const [text, setText] = useState('');
  const [report, setReport] = useState<Report | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const split = splitIdentifiers(text);
  const send = async (dryRun: boolean) => {
    if (!split.ok) return;
    setBusy(true);
    setError(undefined);
    try {
      setReport(
        await call<Report>(credentials, '/abac/users/sync', {
          method: 'POST',
          body: requestBody(split.lists, dryRun),
        }),
      );
    } catch (failure) {
      setReport(undefined);
      setError(failure as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card" aria-labelledby="sync-title">
      <h2 id="sync-title">Sync users from the directory</h2>
      <label for="identifiers"
        >Users, one per line: a username, an email, <code>id:</code> a user id or <code>ldap:</code> an LDAP
        id (at most ${MAX_PER_LIST} of each)</label
      >
      <textarea
        id="identifiers"
        rows="6"
        value=${text}
        onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
      ></textarea>
      <p class="hint" aria-live="polite">
        ${split.ok ? `${split.count} user${split.count === 1 ? '' : 's'} named` : text.trim() === '' ? '' : split.problems.join('; ')}
      </p>
      <div class="actions">
        <button type="button" disabled=${!split.ok || busy} onClick=${() => send(true)}>Preview</button>
        <button type="button" class="primary" disabled=${!split.ok || busy} onClick=${() => send(false)}>
          Apply
        </button>
      </div>
    </section>
    <${ErrorBox} error=${error} />
    ${report ? html`<${ReportView} report=${report} />` : null}`;
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
