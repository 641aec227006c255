import request from 'supertest';
import { ADMIN_HEADERS, type TestHost } from './host';

/** An app in this process, or the base URL of a host process. */
export type Target = Parameters<typeof request>[0];

export const JOBS_URL = '/api/v1/abac/users/sync/jobs';

/** Timings that make takeovers and schedule changes quick enough to test; batches small enough to resume. */
export const FAST_RUNNER = {
  processEveryMs: 100,
  lockLifetimeMs: 3000,
  maintainEveryMs: 200,
  heartbeatMs: 200,
  planBatchSize: 2,
  applyBatchSize: 2,
} as const;

export interface JobBody {
  _id: string;
  state: string;
  phase?: string;
  trigger: string;
  dryRun: boolean;
  actor: Record<string, unknown>;
  progress: { total: number; processed: number };
  summary: Record<string, number>;
  error?: { code: string; message: string };
  cancelRequested: boolean;
  runner?: string;
}

export async function startRun(app: Target, body: object = {}): Promise<JobBody> {
  const response = await request(app).post(JOBS_URL).set(ADMIN_HEADERS).send(body);
  if (response.status !== 202)
    throw new Error(`start refused: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.job as JobBody;
}

export async function readJob(app: Target, jobId: string): Promise<JobBody> {
  const response = await request(app).get(`${JOBS_URL}/${jobId}`).set(ADMIN_HEADERS);
  if (response.status !== 200)
    throw new Error(`read refused: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.job as JobBody;
}

/** Polls the job route until the run has ended (or `deadlineMs` passes), as a client would. */
export async function waitForEnd(app: Target, jobId: string, deadlineMs = 20_000): Promise<JobBody> {
  const started = Date.now();
  for (;;) {
    const job = await readJob(app, jobId);
    if (!['queued', 'running'].includes(job.state)) return job;
    if (Date.now() - started > deadlineMs)
      throw new Error(`run ${jobId} still ${job.state} after ${deadlineMs} ms: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * After the schedule is switched off: its queue entry is gone (no more ticks), and no run a last tick
 * queued is still going, for half a second in a row.
 */
export async function waitForScheduleToSettle(host: Pick<TestHost, 'connection' | 'models'>) {
  const deadline = Date.now() + 15_000;
  const agenda = host.connection.collection('abac_sync_agenda_jobs');
  const busy = async () =>
    (await agenda.countDocuments({ name: 'abac-ldap-sync:schedule' })) > 0 ||
    !!(await host.models.syncJobs.exists({ state: { $in: ['queued', 'running'] } }));
  for (let quietSince = Date.now(); Date.now() - quietSince < 500;) {
    if (Date.now() > deadline) throw new Error('the schedule did not settle');
    if (await busy()) quietSince = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
