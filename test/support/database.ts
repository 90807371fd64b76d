import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { loadMigrations, migrateToLatest } from '../../src/db/migrate.js';
import type { TestDatabaseServer } from './global-setup.js';

export type DatabaseKind = TestDatabaseServer['kind'];

/** The PostgreSQL servers this run tests against: always the embedded one, plus the machine's if up. */
export function databaseKinds(): DatabaseKind[] {
  return inject('databaseServers').map((server) => server.kind);
}

export interface TestDatabase extends DatabaseHandle {
  readonly kind: DatabaseKind;
  readonly name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own (a copy of the run's template), on the given server. */
export async function createTestDatabase(kind: DatabaseKind = 'embedded'): Promise<TestDatabase> {
  const server = inject('databaseServers').find((candidate) => candidate.kind === kind);
  if (!server) throw new Error(`No ${kind} PostgreSQL server in this test run`);
  const name = `${server.template}_c${randomBytes(5).toString('hex')}`;
  await withAdmin(server.adminUrl, (admin) =>
    admin.query(
      `CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE ${admin.escapeIdentifier(server.template)}`,
    ),
  );
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  const handle = connectDatabase(url.toString());
  return {
    ...handle,
    kind,
    name,
    async drop() {
      await handle.close();
      await withAdmin(server.adminUrl, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}

/**
 * A fresh database as an older Merit left it: the template's schema dropped, then only the migrations
 * up to `lastMigration` applied, for a test of what a later migration does to the rows of that time.
 */
export async function createTestDatabaseAt(kind: DatabaseKind, lastMigration: number): Promise<TestDatabase> {
  const database = await createTestDatabase(kind);
  try {
    await database.pool.query(
      'DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA graphile_worker CASCADE;',
    );
    const migrations = await loadMigrations();
    await migrateToLatest(
      database,
      migrations.filter((migration) => migration.id <= lastMigration),
    );
    return database;
  } catch (error) {
    await database.drop();
    throw error;
  }
}

async function withAdmin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
