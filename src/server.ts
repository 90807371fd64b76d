import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppContext } from './app-context.js';
import type { Config } from './config.js';
import { type OpenedDatabase, openDatabase, prepareDatabase } from './db/bootstrap.js';
import { connectDatabase, type DatabaseHandle } from './db/connect.js';
import { type EmbeddedServerWatchdog, watchEmbeddedServer } from './db/embedded-server.js';
import { planEvaluationJobs } from './evaluation/evaluation.jobs.js';
import { EventBus } from './events/event-bus.js';
import { EventRelay } from './events/event-relay.js';
import { createApp, type MeritApp } from './http/app.js';
import { registerEventRoutes } from './http/events.routes.js';
import { isLoopbackAddress, isWildcardAddress } from './http/host-guard.js';
import { countOwners } from './identity/identity.queries.js';
import { createLog } from './lib/log.js';
import { installPriceTable } from './llm/pricing.js';
import { createConfiguredLlmProvider } from './llm/provider.js';
import { CategoryClassifier, registerCategoryClassifier } from './routing/classification.service.js';
import { ExecutionTracker } from './tasks/execution-tracker.js';
import { startWorker, type WorkerHandle } from './worker.js';

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'web');

export interface MeritServices {
  readonly ctx: AppContext;
  readonly app: MeritApp;
}

/** Builds the tracker, event bus and HTTP app over an open database (used by the server and tests). */
export function createServices(
  config: Config,
  database: Pick<OpenedDatabase, 'handle' | 'kind' | 'label'> & { readHandle?: DatabaseHandle },
): MeritServices {
  // Every cost estimate in this process (tasks, judge, reviews) prices with the configured table.
  installPriceTable(config.prices);
  const log = createLog(config.logLevel);
  const events = new EventBus(log);
  // Parsed once by loadConfig: the tracker, feedback and the evaluation jobs score alike.
  const scoring = { weights: config.evaluation.weights, rewards: config.evaluation.rewards };
  // One cached classifier per database: the tracker, the routes and routeCommand all use it.
  const classifier = new CategoryClassifier(database.handle.db, {
    llm: config.llm
      ? createConfiguredLlmProvider(config.llm, {
          timeoutMs: Math.min(config.llm.timeoutMs, 15_000),
          log,
        })
      : undefined,
    budgetMs: config.classifyTimeoutMs,
  });
  registerCategoryClassifier(database.handle.db, classifier);
  const tracker = new ExecutionTracker(database.handle.db, {
    classify: classifier.classifyForTracker,
    scoring,
    planJobs: planEvaluationJobs(config.evaluation),
    pool: database.handle.pool,
    log,
    events,
  });
  // Whichever process changed categories or agents, every process drops what it cached of them.
  events.subscribe((event) => {
    if (event.type !== 'categories' && event.type !== 'agents') return;
    tracker.invalidateCaches();
    if (event.type === 'categories') classifier.invalidate();
  });
  const ctx: AppContext = {
    config,
    db: database.handle.db,
    readDb: (database.readHandle ?? database.handle).db,
    tracker,
    events,
    database: { kind: database.kind, label: database.label },
    scoring,
    log,
  };
  const app = createApp(ctx, {
    registerExtra: (api) => {
      registerEventRoutes(api, ctx);
      serveWebApp(api);
    },
  });
  return { ctx, app };
}

/** Serves the built Mission Control app at `/`, with client-side routes falling back to index.html. */
function serveWebApp(app: MeritApp): void {
  const root = path.relative(process.cwd(), WEB_DIR) || '.';
  app.use('/*', async (c, next) => {
    if (c.req.path.startsWith('/api/')) return next();
    return serveStatic({ root })(c, next);
  });
  app.get('*', (c, next) => {
    if (c.req.path.startsWith('/api/')) return next();
    const index = path.join(WEB_DIR, 'index.html');
    if (!fs.existsSync(index)) {
      return c.html(
        '<p>Mission Control is not built yet: run <code>npm run build</code>, then reload.</p>',
        503,
      );
    }
    return c.html(fs.readFileSync(index, 'utf8'));
  });
}

/** What a process runs: `all` (API + worker, `merit start`), `api` (HTTP only), `worker` (jobs only). */
export type MeritRole = 'all' | 'api' | 'worker';

export interface RunningMerit {
  /** The HTTP address; undefined for a worker-only process. */
  readonly url: string | undefined;
  readonly role: MeritRole;
  readonly services: MeritServices;
  readonly database: OpenedDatabase;
  /** Whether this process runs background jobs. */
  readonly runsJobs: boolean;
  /** What a stop in progress waits for (for the line printed when it overruns its deadline). */
  readonly stopStep: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts one Merit process: database (embedded unless DATABASE_URL), migrations, the live events relay
 * (LISTEN), then by role the worker and/or the HTTP server. Any number of processes of each role may
 * share one database: their events cross through PostgreSQL, their jobs through graphile-worker.
 */
export async function startMerit(
  config: Config,
  log: (message: string) => void = console.log,
  options: { role?: MeritRole } = {},
): Promise<RunningMerit> {
  const role = options.role ?? 'all';
  const serveHttp = role !== 'worker';
  // `merit worker` always runs jobs; `merit start` runs them unless MERIT_WORKER=false.
  const runsJobs = role === 'worker' || (role === 'all' && config.runWorker);
  // Local mode trusts whoever names a user_id: it is only for this machine.
  if (serveHttp && config.auth.mode === 'local' && !isLoopbackAddress(config.host)) {
    throw new Error(
      `MERIT_AUTH=local would let anyone who can reach ${config.host} act as any user: local mode only binds to loopback (127.0.0.1, ::1, localhost). Unset MERIT_AUTH (required is the default off loopback) or bind to 127.0.0.1.`,
    );
  }
  const database = await openDatabase(config, log);
  let worker: WorkerHandle | undefined;
  let server: Server | undefined;
  let watchdog: EmbeddedServerWatchdog | undefined;
  let relay: EventRelay | undefined;
  let readHandle: DatabaseHandle | undefined;
  try {
    const report = await prepareDatabase(database.handle);
    for (const line of report.repaired) log(`Repaired: ${line}`);
    for (const warning of report.warnings) log(`Warning: ${warning}`);
    // A server killed (kill -9, OOM) while Merit runs is started again; the pool reconnects by itself.
    watchdog = database.embedded ? watchEmbeddedServer(database.embedded, { log }) : undefined;
    // The read replica: a pool of its own, used by the read endpoints only.
    readHandle = config.databaseReadUrl
      ? connectDatabase(config.databaseReadUrl, { ...config.database, maxConnections: 20 })
      : undefined;
    const services = createServices(config, { ...database, readHandle });
    // Listening before serving or running jobs: no event of another process is missed from here on.
    relay = new EventRelay(database.handle, services.ctx.events, services.ctx.log);
    await relay.start();
    if (runsJobs) worker = await startWorker(config, database.handle, services.ctx);
    let url: string | undefined;
    if (serveHttp) {
      const { server: httpServer, port } = await listen(services.app, config);
      server = httpServer;
      url = `http://${formatHost(isWildcardAddress(config.host) ? '127.0.0.1' : config.host)}:${port}`;
      if (!isLoopbackAddress(config.host)) {
        const where = isWildcardAddress(config.host) ? 'every network interface' : config.host;
        log(`Listening on ${formatHost(config.host)}:${port} (${where}): reachable from other machines.`);
      }
      log(
        config.auth.mode === 'local'
          ? 'Authentication: local mode (?user_id=, one project, no sign-in; this machine only).'
          : 'Authentication: required (sign in, or an API key as Authorization: Bearer).',
      );
      if (config.auth.mode === 'required' && (await countOwners(services.ctx.db)) === 0) {
        log(
          'No account yet: create the first owner with `npx merit users create --email you@example.com --owner` (it asks for the password).',
        );
      }
    }
    const httpServer = server;
    const startedRelay = relay;
    let stopping: Promise<void> | undefined;
    let stopStep: string | undefined;
    return {
      url,
      role,
      services,
      database,
      runsJobs,
      get stopStep() {
        return stopStep;
      },
      stop() {
        stopping ??= (async () => {
          stopStep = 'the embedded server watchdog';
          await watchdog?.stop();
          if (httpServer) {
            stopStep = 'open HTTP connections';
            await new Promise<void>((resolve) => {
              httpServer.close(() => resolve());
              httpServer.closeAllConnections();
            });
          }
          stopStep = 'background jobs in progress';
          await worker?.stop();
          stopStep = 'the live events connection';
          await startedRelay.stop();
          stopStep = 'database connections still in use';
          await readHandle?.close();
          await database.close({ stopReusedServer: true });
          stopStep = undefined;
        })();
        return stopping;
      },
    };
  } catch (error) {
    await watchdog?.stop().catch(() => {});
    server?.close();
    await worker?.stop().catch(() => {});
    await relay?.stop().catch(() => {});
    await readHandle?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

function listen(app: MeritApp, config: Config): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
      resolve({ server: server as Server, port: info.port }),
    ) as Server;
    server.once('error', reject);
  });
}

/** An IPv6 address in a URL is bracketed. */
function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
