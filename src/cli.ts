import { parseArgs } from 'node:util';
import { ARENA_HELP, runArenaCli } from './arena/arena.cli.js';
import { loadConfig } from './config.js';
import { type OpenedDatabase, openDatabase, prepareDatabase } from './db/bootstrap.js';
import { describeDatabaseUrl } from './db/connect.js';
import { classifyDatabaseError } from './db/errors.js';
import { seedDemo } from './demo/seed-demo.js';
import {
  IDENTITY_HELP,
  readPasswordFromTerminal,
  runKeysCommand,
  runProjectsCommand,
  runUsersCommand,
  UsageError,
} from './identity/identity.cli.js';
import { type MeritRole, startMerit } from './server.js';
import { isListenClientDoubleRelease } from './worker.js';

const SEED_TABLES = [
  'agent_performance_scores',
  'agent_peer_evaluations',
  'agent_node_performance',
  'agent_performance_stats',
  'objective_templates',
];

const HELP = `Merit: know how well each AI agent in a team performs, and route work to the best one.

Usage: npx merit <command> [options]

Commands:
  start              Start Merit: database (embedded unless DATABASE_URL), web UI, API and worker
                       --role api: the web UI and API only (run workers with \`merit worker\`)
  worker             Run background jobs only (any number of workers and API processes share a database)
  init-db            Create or update the performance tracking tables (idempotent)
  seed-demo          Fill a realistic demo history (roster, thousands of tasks over weeks)
                       --tasks N (default 5000)  --days N (default 28)  --seed N (default 42)
                       --user UUID (default 00000000-0000-0000-0000-000000000001)
  db-url             Print the PostgreSQL connection string Merit uses (for psql)
${IDENTITY_HELP}
${ARENA_HELP}
  help               Show this help

Environment: PORT (8000), HOST (127.0.0.1), DATABASE_URL, MERIT_DATA_DIR (.merit),
MERIT_LLM_PROVIDER / MERIT_LLM_BASE_URL / MERIT_LLM_API_KEY / MERIT_LLM_MODEL. See README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  switch (command) {
    case 'start':
      return runStart(rest);
    case 'worker':
      return runProcess('worker');
    case 'init-db':
      return runInitDb();
    case 'seed-demo':
      return runSeedDemo(rest);
    case 'db-url':
      return runDbUrl();
    case 'users':
    case 'projects':
    case 'keys':
      return runIdentity(command, rest);
    case 'arena':
      return runArenaCli(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      console.error(`Unknown command '${command}'.\n\n${HELP}`);
      return 2;
  }
}

async function runStart(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { role: { type: 'string', default: 'all' } } });
  if (values.role !== 'all' && values.role !== 'api') {
    console.error(
      `merit start: --role must be 'api' or 'all', not '${values.role}' (jobs only: \`merit worker\`)`,
    );
    return 2;
  }
  return runProcess(values.role);
}

/** Runs one Merit process of the given role until SIGINT/SIGTERM. */
async function runProcess(role: MeritRole): Promise<number> {
  const config = loadConfig();
  // graphile-worker 0.16 leaves a `.finally()` of its cron promise unhandled, so a cron tick that fails
  // on a lost connection would end the process; src/worker.ts starts a new runner instead. Its LISTEN
  // client's double release after a cut connection is as harmless (isListenClientDoubleRelease). Any
  // other unhandled rejection still ends the process, as Node would.
  process.on('unhandledRejection', (reason) => {
    if (isListenClientDoubleRelease(reason)) {
      console.warn('[merit] a job runner lost its connection while stopping; its replacement carries on');
      return;
    }
    if (classifyDatabaseError(reason) === undefined) throw reason;
    console.warn(
      `[merit] background work failed on a database error, recovering: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
  });
  console.log(role === 'worker' ? 'Starting a Merit worker...' : 'Starting Merit...');
  const merit = await startMerit(config, (message) => console.log(`  ${message}`), { role });
  console.log(`  Database: ${merit.database.label} (${merit.database.kind})`);
  console.log(
    `  LLM: ${config.llm ? `${config.llm.kind} ${config.llm.model}` : 'none configured: simulated agents and offline evaluators'}`,
  );
  console.log(`  Worker: ${merit.runsJobs ? 'running' : 'off'}`);
  console.log(
    merit.url === undefined
      ? '\nThe Merit worker is running (jobs only, no HTTP).  Press Ctrl+C to stop.'
      : `\nMerit is running at ${merit.url}  (API docs: ${merit.url}/api/docs)  Press Ctrl+C to stop.`,
  );
  return new Promise<number>((resolve) => {
    let deadline: NodeJS.Timeout | undefined;
    const shutdown = (signal: string) => {
      if (deadline) {
        // A second Ctrl+C: the user does not want to wait for the graceful stop.
        console.error(`${signal} received again: exiting now.`);
        process.exit(1);
      }
      console.log(`\n${signal} received: stopping Merit...`);
      // Stuck requests, jobs or database connections never keep the process alive past the deadline.
      deadline = setTimeout(() => {
        console.error(
          `Merit did not stop within ${config.shutdownTimeoutMs} ms (still waiting for ${merit.stopStep ?? 'its last steps'}): exiting now.`,
        );
        process.exit(1);
      }, config.shutdownTimeoutMs);
      merit.stop().then(
        () => {
          clearTimeout(deadline);
          console.log('Merit stopped.');
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(deadline);
          console.error('Error while stopping:', error);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
}

async function runInitDb(): Promise<number> {
  const config = loadConfig();
  console.log('🔧 Initializing performance tracking tables...');
  let label = config.databaseUrl
    ? describeDatabaseUrl(config.databaseUrl).label
    : `the embedded server in ${config.dataDir}`;
  let database: OpenedDatabase | undefined;
  try {
    database = await openDatabase(config, () => {});
    label = database.label;
    console.log(`📍 Database: ${database.label}`);
    const report = await prepareDatabase(database.handle);
    if (report.repaired.length > 0) {
      console.log('✅ Performance tracking tables repaired! Existing rows were kept.');
      console.log(
        `\nThe tables no longer matched the recorded migrations. Recreated:\n${report.repaired.map((line) => `  - ${line}`).join('\n')}`,
      );
    } else if (report.applied.length > 0) {
      console.log('✅ Performance tracking tables created successfully!');
      console.log(`\nCreated tables:\n${SEED_TABLES.map((table) => `  - ${table}`).join('\n')}`);
    } else {
      console.log('✅ Performance tracking tables are up to date (nothing to do).');
      console.log(`\nTables:\n${SEED_TABLES.map((table) => `  - ${table}`).join('\n')}`);
    }
    if (report.applied.length > 0) console.log(`\nApplied migrations: ${report.applied.join(', ')}`);
    for (const warning of report.warnings) console.error(`⚠️  ${warning}`);
    return 0;
  } catch (error) {
    console.error(
      `❌ Could not initialize the performance tracking tables in ${label}.\n${explainDatabaseFailure(error)}`,
    );
    return 1;
  } finally {
    await database?.close();
  }
}

/** A failed init-db's reason in words, with PostgreSQL's detail and hint and what to do about it. */
function explainDatabaseFailure(error: unknown): string {
  const { code, message, detail, hint } = (error ?? {}) as {
    code?: string;
    message?: string;
    detail?: string;
    hint?: string;
  };
  const cause = (error as { cause?: { code?: string; detail?: string; hint?: string } } | undefined)?.cause;
  const sqlstate = code ?? cause?.code;
  const lines = [`   ${message || sqlstate || String(error)}`];
  for (const extra of [detail ?? cause?.detail, hint ?? cause?.hint]) if (extra) lines.push(`   ${extra}`);
  const advice: Record<string, string> = {
    ECONNREFUSED: 'Nothing accepts connections there: start PostgreSQL, or fix DATABASE_URL.',
    ENOTFOUND: 'The host name in DATABASE_URL does not resolve.',
    '28P01': 'The password was refused: fix the user and password in DATABASE_URL.',
    '28000': 'The server refused this user: fix the user in DATABASE_URL or pg_hba.conf.',
    '3D000': 'The database does not exist: create it (createdb <name>) or fix DATABASE_URL.',
    '42501': "The user lacks a privilege: Merit's user needs CREATE on the database.",
  };
  const tip = sqlstate ? advice[sqlstate] : undefined;
  if (tip) lines.push(`   ${tip}`);
  return lines.join('\n');
}

async function runDbUrl(): Promise<number> {
  const config = loadConfig();
  const database = await openDatabase(config, () => {});
  try {
    console.log(database.handle.url);
    if (database.embedded && !database.embedded.reused) {
      console.error(
        '(The embedded server was not running: start Merit with `npm start`, then connect with psql.)',
      );
    }
    return 0;
  } finally {
    await database.close();
  }
}

async function runSeedDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tasks: { type: 'string', default: '5000' },
      days: { type: 'string', default: '28' },
      seed: { type: 'string', default: '42' },
      user: { type: 'string', default: '00000000-0000-0000-0000-000000000001' },
    },
  });
  // Seeding writes large statements: the per-statement timeout meant for requests does not apply.
  const config = loadConfig({ ...process.env, MERIT_DB_STATEMENT_TIMEOUT_MS: '0' });
  const database = await openDatabase(config, (message) => console.log(message));
  try {
    await prepareDatabase(database.handle);
    const summary = await seedDemo(database.handle.db, {
      tasks: Number(values.tasks),
      days: Number(values.days),
      seed: Number(values.seed),
      userId: values.user,
      progress: process.stderr.isTTY ? 'bar' : 'lines',
      evaluation: config.evaluation,
    });
    console.log(
      `\nSeeded ${summary.tasks} tasks (${summary.failed} failed, ${summary.rated} rated, ${summary.evaluated} evaluated and reviewed, ${summary.nodes} nodes) over ${summary.days} days in ${(summary.elapsedMs / 1000).toFixed(1)} s.`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

/** `users`, `projects` and `keys`: against the configured database (the embedded one is started if needed). */
async function runIdentity(command: 'users' | 'projects' | 'keys', args: string[]): Promise<number> {
  const config = loadConfig();
  // Asked before the database opens, so a prompt is not interleaved with its messages.
  let password: Promise<string> | undefined;
  const readPassword = () => {
    password ??= readPasswordFromTerminal();
    return password;
  };
  const database = await openDatabase(config, (message) => console.error(message));
  try {
    await prepareDatabase(database.handle);
    const db = database.handle.db;
    const print = (line: string) => console.log(line);
    if (command === 'users') await runUsersCommand(db, args, { print, readPassword });
    else if (command === 'projects') await runProjectsCommand(db, args, print);
    else await runKeysCommand(db, args, print);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`merit ${command}: ${error.message}`);
    return 2;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`merit: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
