import { runOnce } from 'graphile-worker';
import { silentWorkerLogger } from '../../src/lib/log.js';
import { buildTaskList } from '../../src/worker.js';
import type { TestApp } from './app.js';

/** Runs every job that is due now, one at a time, in this process (graphile-worker's runOnce). */
export async function runDueJobs(app: TestApp): Promise<void> {
  await runOnce({
    pgPool: app.database.pool,
    taskList: buildTaskList(app.ctx),
    logger: silentWorkerLogger(),
    noHandleSignals: true,
  });
}

export interface QueuedJob {
  task_identifier: string;
  key: string | null;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: Date;
  locked_by: string | null;
}

export async function listJobs(app: Pick<TestApp, 'database'>): Promise<QueuedJob[]> {
  const { rows } = await app.database.pool.query<QueuedJob>(
    'SELECT task_identifier, key, attempts, max_attempts, last_error, run_at, locked_by FROM graphile_worker.jobs ORDER BY id',
  );
  return rows;
}

/** Makes every queued job due now (skips graphile-worker's retry backoff without waiting for it). */
export async function makeJobsDue(app: Pick<TestApp, 'database'>): Promise<void> {
  await app.database.pool.query(
    'SELECT graphile_worker.reschedule_jobs(ARRAY(SELECT id FROM graphile_worker.jobs), run_at := now())',
  );
}

/**
 * Removes the queued jobs whose key matches the LIKE pattern (all by default), through graphile-worker's
 * public complete_jobs (a completed job is deleted), as a finished job would be.
 */
export async function deleteQueuedJobs(app: Pick<TestApp, 'database'>, keyPattern?: string): Promise<void> {
  await app.database.pool.query(
    `SELECT graphile_worker.complete_jobs(ARRAY(
       SELECT id FROM graphile_worker.jobs WHERE $1::text IS NULL OR key LIKE $1::text))`,
    [keyPattern ?? null],
  );
}

/** Completes a new task over HTTP and returns its id. */
export async function completeTask(
  app: TestApp,
  input: { agent_id?: string; command?: string; result?: string; category?: string; id?: string } = {},
): Promise<string> {
  const created = await app.call('POST', '/api/tasks', {
    agent_id: input.agent_id ?? 'agent_a',
    command: input.command ?? '@bob research quantum computing error correction',
    objective_category: input.category ?? 'research',
    ...(input.id ? { id: input.id } : {}),
  });
  if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  const completed = await app.call('POST', `/api/tasks/${created.body.id}/complete`, {
    result: input.result ?? GOOD_RESEARCH_OUTPUT,
    model: 'gpt-4o-mini',
    prompt_tokens: 1500,
    completion_tokens: 700,
    duration_ms: 20_000,
  });
  if (completed.status !== 200) throw new Error(`complete failed: ${JSON.stringify(completed.body)}`);
  return created.body.id as string;
}

export const GOOD_RESEARCH_OUTPUT = [
  '## Quantum computing error correction',
  '',
  'Quantum computing stores information in qubits, which lose coherence quickly. Error correction',
  'encodes one logical qubit in many physical qubits so that errors can be detected and corrected.',
  '',
  '- Surface codes: the leading approach for quantum error correction, tolerant of 1% error rates.',
  '- Research results: recent experiments show logical error rates falling as the code distance grows.',
  '- Computing overhead: roughly a thousand physical qubits per logical qubit today.',
  '',
  '## Summary',
  '',
  'In summary, quantum error correction research is progressing, and practical quantum computing',
  'depends on lowering the overhead of error correction.',
].join('\n');
