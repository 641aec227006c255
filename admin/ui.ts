import { h } from 'preact';
import htm from 'htm';
import { adviceFor, type ApiError } from './api';

export const html = htm.bind(h);

export function ErrorBox({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.code}</strong> ${error.message}
    ${adviceFor(error) ? html`<p>${adviceFor(error)}</p>` : null}
  </div>`;
}
