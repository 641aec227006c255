// A worker thread's entry: reads the user subtree into a DirectoryMap on a directory session of its own,
// then answers the run's requests to count owners and match users. The host's event loop and heap never
// hold the decoded subtree; the heap limit the module gave this thread bounds it.
import { parentPort, workerData } from 'node:worker_threads';
import { LdaptsDirectory } from '../lib/ldap/ldapts-directory';
import { silentLogger } from '../lib/logger';
import { DirectoryLargerThanExpectedError, DirectoryMap } from '../lib/sync/directory-map';
import type { EntryMapStart, FromEntryMapWorker, ToEntryMapWorker } from './entry-map-messages';

async function read({ configuration, storedIdAttributes, maxEntries }: EntryMapStart) {
  const session = await new LdaptsDirectory(silentLogger).open(configuration.connection);
  try {
    const map = await DirectoryMap.read(session, configuration, storedIdAttributes, maxEntries);
    return { map, references: session.stats.references };
  } finally {
    await session.close();
  }
}

const port = parentPort!;
const send = (message: FromEntryMapWorker) => port.postMessage(message);
read(workerData as EntryMapStart).then(
  ({ map, references }) => {
    port.on('message', (request: ToEntryMapWorker) => {
      if (request.kind === 'countOwners') {
        map.countOwners(request.users);
        send({ kind: 'answer', id: request.id });
      } else send({ kind: 'answer', id: request.id, matches: request.users.map((user) => map.match(user)) });
    });
    send({ kind: 'ready', size: map.size, references });
  },
  (error: unknown) =>
    send({
      kind: 'failed',
      name: error instanceof Error ? error.name : 'Error',
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof DirectoryLargerThanExpectedError ? { maxEntries: error.maxEntries } : {}),
    }),
);
