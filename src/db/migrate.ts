import { Logger, runMigrations as runWorkerMigrations } from 'graphile-worker';
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type pg from 'pg';
import type { Database } from './database.js';
import * as m001 from './migrations/001-foundation.js';
import * as m002 from './migrations/002-evaluation.js';
import * as m003 from './migrations/003-routing.js';

/** Numbered migrations, applied in order, each recorded in `kysely_migration`; listed here so builds need no file scanning. */
const MIGRATIONS: Record<string, Migration> = {
  '001-foundation': m001,
  '002-evaluation': m002,
  '003-routing': m003,
};

const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};

export interface MigrationReport {
  /** Names of the migrations applied by this call (empty when the schema was already up to date). */
  applied: string[];
  /** Every migration the schema now has. */
  all: string[];
}

/**
 * Brings the database to the latest schema: Merit's migrations (in one transaction, under Kysely's
 * migration lock) and graphile-worker's job tables. Running it again is a no-op.
 */
export async function migrateToLatest(db: Kysely<Database>, pool: pg.Pool): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new Error(`Migration failed: ${describeError(error)}`, { cause: error });
  await runWorkerMigrations({ pgPool: pool, logger: silentWorkerLogger() });
  return {
    applied: (results ?? [])
      .filter((result) => result.status === 'Success')
      .map((result) => result.migrationName),
    all: Object.keys(MIGRATIONS),
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** graphile-worker logs through this; Merit keeps its own output readable. */
export function silentWorkerLogger(): Logger {
  return createWorkerLogger('silent');
}

const LEVEL_RANK = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const;
const WORKER_LEVELS: Record<string, keyof typeof LEVEL_RANK> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
};

/** graphile-worker's log lines (job outcomes, retries, failures) at or above `MERIT_LOG_LEVEL`. */
export function createWorkerLogger(level: keyof typeof LEVEL_RANK): Logger {
  return new Logger(() => (messageLevel, message) => {
    const mapped = WORKER_LEVELS[messageLevel] ?? 'info';
    if (LEVEL_RANK[mapped] < LEVEL_RANK[level]) return;
    const line = `[merit worker] ${message}`;
    if (mapped === 'error') console.error(line);
    else if (mapped === 'warn') console.warn(line);
    else console.log(line);
  });
}
