import { useState } from 'preact/hooks';
import { call, planUndo, type ApiError, type Credentials } from './api';
import { MAX_PER_LIST, requestBody, splitIdentifiers } from './identifiers';
import { ErrorBox, html, UserChangesTable, type Attribute } from './ui';
import { applyQuestion, counted, listLabel, statusLabel, summaryFigures } from './words';

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

/** A preview, with the exact body it was made from: what Apply sends, whatever the text box holds by then. */
interface Preview {
  text: string;
  body: Record<string, unknown>;
  report: Report;
}

function ReportView({ report, onUndo }: { report: Report; onUndo?: () => void }) {
  const unmatched = Object.entries(report.unmatched).flatMap(([list, items]) =>
    items.map((item) => `${item} (${listLabel(list)})`),
  );
  return html`<section class="card" aria-labelledby="report-title">
    <h2 id="report-title">${report.dryRun ? 'Preview: nothing was written' : 'Applied'}</h2>
    <p class="summary">
      ${summaryFigures(report.summary).map(
        (figure) => html`<span data-figure=${figure.key}><b>${figure.count}</b> ${figure.label}</span> `,
      )}
    </p>
    <${UserChangesTable}
      caption="One row per user, by username"
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
    ${
      onUndo
        ? html`<div class="actions">
            <button type="button" onClick=${onUndo}>Undo this sync</button>
            <span class="hint"
              >Plans the undo for review in the runs below; nothing is undone before you apply it.</span
            >
          </div>`
        : null
    }
  </section>`;
}

/**
 * Named users: Preview first; Apply then sends exactly what was previewed, after a confirmation that says
 * what it does (a red button when it takes values or rooms away). Editing the list asks for a new preview.
 */
export function SyncUsers({ credentials }: { credentials: Credentials }) {
  const [text, setText] = useState('');
  const [preview, setPreview] = useState<Preview | undefined>();
  const [applied, setApplied] = useState<{ report: Report; requestId: string } | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const split = splitIdentifiers(text);
  const current = preview !== undefined && preview.text === text;
  const question = current ? applyQuestion(preview.report) : undefined;

  const send = async (body: Record<string, unknown>, requestId?: string) => {
    setBusy(true);
    setError(undefined);
    try {
      return await call<Report>(credentials, '/abac/users/sync', {
        method: 'POST',
        body,
        ...(requestId ? { requestId } : {}),
      });
    } catch (failure) {
      setError(failure as ApiError);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  const previewIt = async () => {
    if (!split.ok) return;
    const body = requestBody(split.lists, true);
    setApplied(undefined);
    setConfirming(false);
    const report = await send(body);
    setPreview(report ? { text, body, report } : undefined);
  };
  const applyIt = async () => {
    if (!current || !preview) return;
    setConfirming(false);
    // The page names the sync's request id itself: it is what an undo of this sync asks for.
    const requestId = `page-${Array.from(crypto.getRandomValues(new Uint8Array(12)), (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
    const report = await send({ ...preview.body, dryRun: false }, requestId);
    if (report) {
      setApplied({ report, requestId });
      setPreview(undefined);
    }
  };

  const hint = split.ok
    ? `${counted(split.count, 'user')} named` +
      (preview && !current ? ': the list changed since the preview, preview it again to apply it' : '')
    : text.trim() === ''
      ? ''
      : split.problems.join('; ');
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
      <p class="hint" aria-live="polite">${hint}</p>
      <div class="actions">
        <button type="button" class="primary" disabled=${!split.ok || busy} onClick=${previewIt}>
          Preview
        </button>
        ${
          confirming && question
            ? html`<span class="confirm"
                >${question.text}
                <button type="button" class=${question.takesAway ? 'danger' : 'primary'} onClick=${applyIt}>
                  Yes, apply it
                </button>
                <button type="button" onClick=${() => setConfirming(false)}>No</button></span
              >`
            : html`<button
                type="button"
                class=${question?.takesAway ? 'danger' : ''}
                disabled=${!current || busy}
                title=${current ? undefined : 'Preview the list first: Apply applies what was previewed.'}
                onClick=${() => setConfirming(true)}
              >
                Apply the preview
              </button>`
        }
      </div>
    </section>
    <${ErrorBox} error=${error} />
    ${
      applied
        ? html`<${ReportView}
            report=${applied.report}
            onUndo=${() =>
              planUndo(credentials, { requestId: applied.requestId }).catch((failure: unknown) =>
                setError(failure as ApiError),
              )}
          />`
        : null
    }
    ${preview ? html`<${ReportView} report=${preview.report} />` : null}`;
}
