import { PassThrough } from 'node:stream';
import { LineProgress } from '../../app/cli/progress-display';
import { queuedJob } from '../../lib/jobs/job-store';
import type { SyncJob } from '../../lib/jobs/sync-job';

// The CLI's line progress (no terminal, no servers).

const job = (changes: Partial<SyncJob>): SyncJob => ({
  ...queuedJob({
    _id: 'j1',
    trigger: 'cli',
    actor: { type: 'system', jobId: 'j1' },
    dryRun: false,
    createdAt: new Date(0),
  }),
  ...changes,
});

describe('the CLI’s line progress', () => {
  it('says the users are being counted, never “0/0”, until the run has its total', () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const progress = new LineProgress(stream, 0);
    progress.show(job({}), 0);
    progress.show(job({ state: 'running' }), 10);
    progress.show(job({ state: 'running' }), 20);
    progress.show(job({ state: 'running', phase: 'planning', progress: { total: 40, processed: 10 } }), 30);
    expect(lines).toEqual([
      'queued: waiting for a runner',
      'counting the users',
      'planning: 10/40 users planned (25%)',
    ]);
  });
});
