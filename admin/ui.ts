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

export interface Attribute {
  key: string;
  values: string[];
}

/** One user's row of a table of changes (a sync's report, or a run's planned changes). */
export interface UserChangeRow {
  username: string;
  /** What the status cell says. */
  status: string;
  /** The status cell's class, for its colour (none: plain). */
  statusClass?: string;
  added?: Attribute[];
  removed?: Attribute[];
  rooms: { name: string }[];
  /** Rooms given back (an undo's plan): shown in a column of their own when the table has one. */
  restored?: { name: string }[];
}

const values = (attributes: Attribute[] | undefined) =>
  (attributes ?? []).map((attribute) => `${attribute.key}: ${attribute.values.join(', ')}`).join('; ');

/** A table of changes, one row per user. */
export function UserChangesTable({
  caption,
  captionClass,
  roomsHeading,
  restoredHeading,
  tableClass,
  rows,
}: {
  caption: string;
  captionClass?: string;
  roomsHeading: string;
  /** Set: a column of the rooms each user gets back. */
  restoredHeading?: string;
  tableClass?: string;
  rows: UserChangeRow[];
}) {
  return html`<div class="table-scroll" tabindex="0" role="region" aria-label=${caption}>
    <table class=${tableClass}>
      <caption class=${captionClass}>
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Status</th>
          <th scope="col">Values added</th>
          <th scope="col">Values removed</th>
          <th scope="col">${roomsHeading}</th>
          ${restoredHeading ? html`<th scope="col">${restoredHeading}</th>` : null}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr data-user=${row.username}>
              <td>${row.username}</td>
              <td class=${row.statusClass}>${row.status}</td>
              <td>${values(row.added)}</td>
              <td>${values(row.removed)}</td>
              <td>${row.rooms.map((room) => room.name).join(', ')}</td>
              ${restoredHeading ? html`<td>${(row.restored ?? []).map((room) => room.name).join(', ')}</td>` : null}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
