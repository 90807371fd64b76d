import { readFileSync } from 'node:fs';
import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import { classifyDatabaseError } from '../db/errors.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { listLlmHealth } from './llm-health.js';
import { describeModels, describeWorker, OFFLINE_MESSAGE } from './status.js';
import {
  countLiveWorkers,
  findEvaluationBacklog,
  findQueueDepths,
  probeDatabaseServer,
} from './status.queries.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A section that could not be measured says why instead of failing the whole page. */
const sectionError = z
  .string()
  .nullable()
  .openapi({ description: 'Why this section is unknown; null when measured' });
const age = z.number().nullable().openapi({ description: 'Milliseconds; null when there is nothing to age' });

const statusSchema = z
  .object({
    version: z.string(),
    generated_at: z.string(),
    database: z.object({
      reachable: z.boolean(),
      kind: z.enum(['embedded', 'external']),
      label: z.string(),
      server_version: z.string().nullable(),
      latency_ms: z.number().nullable(),
      error: sectionError,
    }),
    worker: z.object({
      alive: z.boolean().nullable().openapi({
        description:
          'At least one graphile-worker worker holds its alive lock on this database; null when unknown',
      }),
      live_workers: z.number().nullable(),
      runs_in_this_process: z.boolean(),
      running_jobs: z.number().nullable(),
      ready_jobs: z.number().nullable(),
      oldest_ready_age_ms: age,
      stalled: z.boolean().nullable(),
      last_activity_at: z.string().nullable().openapi({
        description: 'The latest job start or failed attempt still in the queue (finished jobs leave it)',
      }),
      queue: z.array(
        z.object({
          task_identifier: z.string(),
          ready: z.number(),
          scheduled: z.number(),
          running: z.number(),
          failed: z.number(),
          oldest_ready_age_ms: age,
        }),
      ),
      error: sectionError,
    }),
    llm: z.object({
      mode: z.enum(['online', 'offline']),
      message: z.string().nullable(),
      provider: z.enum(['openai', 'anthropic']).nullable(),
      observed_in: z.literal('this process').openapi({
        description: 'Outcomes are of the calls this server process made (its worker included)',
      }),
      models: z.array(
        z.object({
          model: z.string(),
          roles: z.array(z.string()),
          reachable: z.boolean().nullable().openapi({ description: 'Null until a call was made' }),
          calls: z.number(),
          failures: z.number(),
          last_success_at: z.string().nullable(),
          last_failure_at: z.string().nullable(),
          last_error: z.string().nullable(),
          last_error_status: z.number().nullable(),
        }),
      ),
    }),
    evaluation: z.object({
      enabled: z.boolean(),
      evaluator: z.enum(['llm', 'offline']),
      sample_rate: z.number(),
      pending_tasks: z.number().nullable(),
      oldest_pending_age_ms: age,
      abandoned_tasks: z.number().nullable(),
      unscored_tasks: z.number().nullable(),
      failed_evaluations_24h: z.number().nullable(),
      failed_reviews_24h: z.number().nullable(),
      error: sectionError,
    }),
  })
  .openapi('Status');

export function registerStatusRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/status',
      tags: ['System'],
      summary:
        "Merit's state: database, worker and job queue, each LLM model's connection, the project's evaluation backlog, version",
      request: { query: z.object(userQuery) },
      responses: { 200: jsonContent(statusSchema, 'Status'), ...errorResponses },
    }),
    async (c) => {
      const scope = c.get('principal');
      const { config } = ctx;
      const now = new Date();
      const [database, worker, backlog] = await Promise.all([
        measure(() => probeDatabaseServer(ctx.db)),
        measure(async () => {
          const [liveWorkers, queue] = await Promise.all([countLiveWorkers(ctx.db), findQueueDepths(ctx.db)]);
          return describeWorker({ liveWorkers, runsInThisProcess: config.runWorker, queue }, now);
        }),
        measure(() => findEvaluationBacklog(ctx.db, scope)),
      ]);
      const body: z.infer<typeof statusSchema> = {
        version: VERSION,
        generated_at: now.toISOString(),
        database: {
          reachable: database.ok,
          kind: ctx.database.kind,
          label: ctx.database.label,
          server_version: database.ok ? database.value.serverVersion : null,
          latency_ms: database.ok ? database.value.latencyMs : null,
          error: database.ok ? null : database.error,
        },
        worker: worker.ok
          ? { ...worker.value, error: null }
          : {
              alive: null,
              live_workers: null,
              runs_in_this_process: config.runWorker,
              running_jobs: null,
              ready_jobs: null,
              oldest_ready_age_ms: null,
              stalled: null,
              last_activity_at: null,
              queue: [],
              error: worker.error,
            },
        llm: config.llm
          ? {
              mode: 'online',
              message: null,
              provider: config.llm.kind,
              observed_in: 'this process',
              models: describeModels(config.llm, listLlmHealth()),
            }
          : {
              mode: 'offline',
              message: OFFLINE_MESSAGE,
              provider: null,
              observed_in: 'this process',
              models: [],
            },
        evaluation: {
          enabled: config.evaluation.enabled,
          evaluator: config.llm ? 'llm' : 'offline',
          sample_rate: config.evaluation.sampleRate,
          ...(backlog.ok
            ? {
                pending_tasks: backlog.value.pending_tasks,
                oldest_pending_age_ms:
                  backlog.value.oldest_pending_completed_at === null
                    ? null
                    : Math.max(0, now.getTime() - backlog.value.oldest_pending_completed_at.getTime()),
                abandoned_tasks: backlog.value.abandoned_tasks,
                unscored_tasks: backlog.value.unscored_tasks,
                failed_evaluations_24h: backlog.value.failed_evaluations_24h,
                failed_reviews_24h: backlog.value.failed_reviews_24h,
                error: null,
              }
            : {
                pending_tasks: null,
                oldest_pending_age_ms: null,
                abandoned_tasks: null,
                unscored_tasks: null,
                failed_evaluations_24h: null,
                failed_reviews_24h: null,
                error: backlog.error,
              }),
        },
      };
      return c.json(body, 200);
    },
  );

  type Measured<T> = { ok: true; value: T } | { ok: false; error: string };

  async function measure<T>(read: () => Promise<T>): Promise<Measured<T>> {
    try {
      return { ok: true, value: await read() };
    } catch (error) {
      ctx.log.warn({ err: error }, 'status: a section could not be measured');
      return { ok: false, error: describeFailure(error) };
    }
  }
}

// What a reader can act on, without the driver's text (which may name hosts or SQL).
function describeFailure(error: unknown): string {
  const kind = classifyDatabaseError(error);
  if (kind !== undefined) return `the database is unavailable (${kind})`;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '3F000' || code === '42P01')
    return 'the job queue is not installed yet (no worker has started)';
  return 'could not be measured (see the server log)';
}
