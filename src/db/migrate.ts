import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import type pg from 'pg';
import { silentWorkerLogger } from '../lib/log.js';
import type { DatabaseHandle } from './connect.js';
import {
  fingerprintSchema,
  planSchemaRepair,
  quoteIdentifier,
  readSchemaShape,
  type SchemaShape,
} from './schema-repair.js';

/** Merit's migrations: numbered `.sql` files beside this module, each run whole (one query). */
export const MIGRATIONS_DIRECTORY = new URL('./migrations/', import.meta.url);

/** Which migrations a database has, one row each, written in the migration's own transaction. */
const MIGRATIONS_TABLE = 'merit_migrations';

/** One row: the migration files and the schema shape last found complete, so an unchanged schema is not checked again. */
const SCHEMA_CHECK_TABLE = 'merit_schema_check';

/** The table Kysely's Migrator kept before the SQL files; a database recorded there is adopted. */
const KYSELY_MIGRATIONS_TABLE = 'kysely_migration';

/** Held for the whole run (session advisory lock), so two processes never migrate at once. */
const MIGRATION_LOCK_KEY = 7_236_521_908_410_155_001n;

/** Built and rolled back on every check; PostgreSQL prints definitions unqualified inside it. */
const REFERENCE_SCHEMA = 'merit_migration_reference';

export interface Migration {
  /** The file's number, e.g. 1 for 001-foundation.sql. */
  id: number;
  /** The file's name without `.sql`. */
  name: string;
  sql: string;
}

export interface MigrationReport {
  /** Names of the migrations applied by this call (empty when the schema was already up to date). */
  applied: string[];
  /** What this call recreated because the recorded migrations no longer matched the tables. */
  repaired: string[];
  /** Problems a repair could not fix (Merit runs with them); empty when there are none. */
  warnings: string[];
  /** Every migration the schema now has. */
  all: string[];
}

/** Reads the numbered migration files of `directory`, in order; numbers run 1, 2, 3... without gaps. */
export async function loadMigrations(directory: URL = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const files = (await fs.readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d+)-[a-z0-9-]+\.sql$/.exec(file);
    if (!match) throw new Error(`Migration file ${file} is not named NNN-name.sql`);
    const id = Number(match[1]);
    if (id !== migrations.length + 1) {
      throw new Error(
        `Migration ${file} should be number ${migrations.length + 1}: numbers run without gaps`,
      );
    }
    migrations.push({
      id,
      name: file.slice(0, -'.sql'.length),
      sql: await fs.readFile(new URL(file, directory), 'utf8'),
    });
  }
  return migrations;
}

/**
 * Brings the database to the latest schema, as graphile-worker does: each pending migration file runs
 * whole, as one query, in its own transaction that also records it in `merit_migrations`. A database
 * recorded by Kysely's Migrator (`kysely_migration`) is adopted, not migrated again. Then the schema is
 * checked against what the migrations create (built in a scratch schema and rolled back); whatever is
 * missing (a table dropped by hand, a column, a constraint, an index, a view) is recreated and nothing
 * that exists is touched. graphile-worker's job tables follow. A session advisory lock serialises
 * concurrent callers, so running it twice, or from two processes at once, applies everything once.
 */
export async function migrateToLatest(
  handle: DatabaseHandle,
  migrations?: Migration[],
): Promise<MigrationReport> {
  const files = migrations ?? (await loadMigrations());
  // Outside the pool: graphile-worker takes pooled connections while this one holds the lock.
  const client = handle.createClient();
  await client.connect();
  try {
    await lockMigrations(client);
    try {
      const applied = await applyPendingMigrations(client, files);
      const { repaired, warnings } = await repairSchema(client, files);
      await runWorkerMigrations({ pgPool: handle.pool, logger: silentWorkerLogger() });
      return { applied, repaired, warnings, all: files.map((migration) => migration.name) };
    } finally {
      // A connection that failed releases the lock as it ends.
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function lockMigrations(client: pg.Client): Promise<void> {
  // Waits as long as another process migrates; a session lock outlives this transaction.
  await client.query('BEGIN');
  try {
    await client.query("SET LOCAL lock_timeout = '0'");
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function applyPendingMigrations(client: pg.Client, migrations: Migration[]): Promise<string[]> {
  const done = await findAppliedMigrations(client);
  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.id)) continue;
    await client.query('BEGIN');
    try {
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (id, name) VALUES ($1, $2)`, [
        migration.id,
        migration.name,
      ]);
      // One query: PostgreSQL's simple protocol runs every statement, $$ bodies included, as written.
      await client.query(migration.sql);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(
        `Migration ${migration.name}.sql failed${describePosition(migration.sql, error)}: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
    applied.push(migration.name);
  }
  return applied;
}

/** Creates the record table when missing, adopting the migrations Kysely's Migrator recorded. */
async function findAppliedMigrations(client: pg.Client): Promise<Set<number>> {
  await client.query('BEGIN');
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
       )`,
    );
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA_CHECK_TABLE} (
         id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
         migrations_hash TEXT NOT NULL,
         schema_hash TEXT NOT NULL,
         checked_at TIMESTAMPTZ NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
      KYSELY_MIGRATIONS_TABLE,
    ]);
    if (rows[0]?.exists) {
      // Kysely named them like the files (001-foundation) and kept an ISO timestamp.
      await client.query(
        `INSERT INTO ${MIGRATIONS_TABLE} (id, name, applied_at)
         SELECT substring(name FROM '^[0-9]+')::int, name, timestamp::timestamptz
         FROM ${KYSELY_MIGRATIONS_TABLE} WHERE name ~ '^[0-9]+-'
         ON CONFLICT (id) DO NOTHING`,
      );
      await client.query(`DROP TABLE IF EXISTS ${KYSELY_MIGRATIONS_TABLE}, ${KYSELY_MIGRATIONS_TABLE}_lock`);
    }
    const applied = await client.query<{ id: number }>(`SELECT id FROM ${MIGRATIONS_TABLE}`);
    await client.query('COMMIT');
    return new Set(applied.rows.map((row) => row.id));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Recreates what the migrations create but the live schema lacks; one line per object repaired. The
 * reference is built only when the files or the live shape changed since the last complete check.
 */
async function repairSchema(
  client: pg.Client,
  migrations: Migration[],
): Promise<{ repaired: string[]; warnings: string[] }> {
  const schema = await findCurrentSchema(client);
  const migrationsHash = hashOf(migrations.map((migration) => [migration.name, migration.sql]));
  const { rows } = await client.query<{ complete: boolean }>(
    `SELECT migrations_hash = $1 AND schema_hash = $2 AS complete FROM ${SCHEMA_CHECK_TABLE}`,
    [migrationsHash, await fingerprintSchema(client, schema)],
  );
  if (rows[0]?.complete) return { repaired: [], warnings: [] };

  const reference = await buildReferenceShape(client, migrations);
  if (!reference) {
    return {
      repaired: [],
      warnings: [`schema not checked: this user may not create the scratch schema ${REFERENCE_SCHEMA}`],
    };
  }
  const plan = planSchemaRepair(reference, await readSchemaShape(client, schema));
  if (plan.statements.length > 0) {
    await client.query('BEGIN');
    try {
      for (const statement of plan.statements) await client.query(statement);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(`Recreating ${plan.missing.join(', ')} failed: ${describeError(error)}`, {
        cause: error,
      });
    }
  }
  await client.query(
    `INSERT INTO ${SCHEMA_CHECK_TABLE} (migrations_hash, schema_hash) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET migrations_hash = $1, schema_hash = $2, checked_at = now()`,
    [migrationsHash, await fingerprintSchema(client, schema)],
  );
  return { repaired: plan.missing, warnings: [] };
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** The schema the migrations create, read inside a transaction that is rolled back. */
async function buildReferenceShape(
  client: pg.Client,
  migrations: Migration[],
): Promise<SchemaShape | undefined> {
  await client.query('BEGIN');
  try {
    try {
      await client.query(`CREATE SCHEMA ${quoteIdentifier(REFERENCE_SCHEMA)}`);
    } catch (error) {
      // insufficient_privilege: a user without CREATE on the database still gets its migrations.
      if ((error as { code?: unknown }).code === '42501') return undefined;
      throw error;
    }
    await client.query(`SET LOCAL search_path = ${quoteIdentifier(REFERENCE_SCHEMA)}`);
    for (const migration of migrations) {
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw new Error(
          `Migration ${migration.name}.sql failed on an empty schema: ${describeError(error)}`,
          {
            cause: error,
          },
        );
      }
    }
    return await readSchemaShape(client, REFERENCE_SCHEMA);
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}

async function findCurrentSchema(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('No schema to migrate: the search_path names no existing schema');
  return schema;
}

/** " at line N" of the migration, from PostgreSQL's error position (a character offset, from 1). */
function describePosition(sql: string, error: unknown): string {
  const position = Number((error as { position?: unknown }).position);
  if (!Number.isInteger(position) || position < 1) return '';
  return ` at line ${sql.slice(0, position - 1).split('\n').length}`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
