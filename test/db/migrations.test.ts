import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Migration as KyselyMigration, Migrator, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prepareDatabase } from '../../src/db/bootstrap.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { loadMigrations, type Migration, migrateToLatest } from '../../src/db/migrate.js';
import { readSchemaShape, type SchemaShape } from '../../src/db/schema-repair.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** The seed guide's troubleshooting section, "Tables Already Exist Error", verbatim. */
const SEED_DROP_AND_RECREATE = `
DROP TABLE IF EXISTS agent_performance_scores CASCADE;
DROP TABLE IF EXISTS agent_peer_evaluations CASCADE;
DROP TABLE IF EXISTS agent_node_performance CASCADE;
DROP TABLE IF EXISTS agent_performance_stats CASCADE;
DROP TABLE IF EXISTS objective_templates CASCADE;
`;

const databases: TestDatabase[] = [];
const folders: string[] = [];

afterAll(async () => {
  for (const database of databases) await database.drop();
  for (const folder of folders) await fs.rm(folder, { recursive: true, force: true });
});

/** A database with nothing in it: no Merit tables, no record of migrations, no job schema. */
async function createEmptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('embedded');
  databases.push(database);
  await database.pool.query(
    'DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA graphile_worker CASCADE;',
  );
  return database;
}

async function createMigratedDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('embedded');
  databases.push(database);
  return database;
}

async function writeMigrations(files: Record<string, string>): Promise<Migration[]> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-migrations-'));
  folders.push(folder);
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(folder, name), text);
  return loadMigrations(pathToFileURL(`${folder}/`));
}

/** Everything a repair restores, in a stable order (a column re-added by a repair comes last in its table). */
async function readShape(handle: DatabaseHandle): Promise<SchemaShape> {
  const client = await handle.pool.connect();
  try {
    const shape = await readSchemaShape(client, 'public');
    const byName =
      <T>(key: (item: T) => string) =>
      (a: T, b: T) =>
        key(a).localeCompare(key(b));
    return {
      tables: [...shape.tables].sort(),
      columns: shape.columns.sort(byName((column) => `${column.table}.${column.name}`)),
      constraints: shape.constraints.sort(byName((constraint) => `${constraint.table}.${constraint.name}`)),
      indexes: shape.indexes.sort(byName((index) => index.name)),
      views: shape.views.sort(byName((view) => view.name)),
      triggers: shape.triggers.sort(byName((trigger) => `${trigger.table}.${trigger.name}`)),
    };
  } finally {
    client.release();
  }
}

async function countRows(handle: DatabaseHandle, table: string): Promise<number> {
  const { rows } = await handle.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

describe('migrations as SQL files', () => {
  it('runs a migration file whole: a $$ function body with statements on their own lines works', async () => {
    const database = await createEmptyDatabase();
    const migrations = await writeMigrations({
      '001-counter.sql': `-- A table and a PL/pgSQL function whose body has several statements, one per line.
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0);

CREATE FUNCTION bump(counter TEXT) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  result INTEGER;
BEGIN
  INSERT INTO counters (name) VALUES (counter) ON CONFLICT (name) DO NOTHING;
  UPDATE counters SET value = value + 1 WHERE name = counter RETURNING value INTO result;
  RETURN result;
END;
$$;
`,
    });
    const report = await migrateToLatest(database, migrations);
    expect(report.applied).toEqual(['001-counter']);
    await database.pool.query("SELECT bump('a')");
    const { rows } = await database.pool.query("SELECT bump('a') AS value");
    expect(rows[0].value).toBe(2);
    const recorded = await database.pool.query('SELECT id, name FROM merit_migrations');
    expect(recorded.rows).toEqual([{ id: 1, name: '001-counter' }]);
  });

  it('rolls a failing migration back whole, records nothing, and names the file and line', async () => {
    const database = await createEmptyDatabase();
    const migrations = await writeMigrations({
      '001-good.sql': 'CREATE TABLE good (id INTEGER PRIMARY KEY);\n',
      '002-bad.sql': 'CREATE TABLE half (id INTEGER);\n\nSELECT missing_column FROM good;\n',
    });
    await expect(migrateToLatest(database, migrations)).rejects.toThrow(
      /Migration 002-bad\.sql failed at line 3: column "missing_column" does not exist/,
    );
    const recorded = await database.pool.query('SELECT name FROM merit_migrations');
    expect(recorded.rows).toEqual([{ name: '001-good' }]);
    const half = await database.pool.query("SELECT to_regclass('half') AS half");
    expect(half.rows[0].half).toBeNull();
  });

  it('refuses a gap in the numbers', async () => {
    await expect(writeMigrations({ '001-a.sql': 'SELECT 1;', '003-c.sql': 'SELECT 1;' })).rejects.toThrow(
      /003-c\.sql should be number 2/,
    );
  });

  it('applies every migration on an empty database, and nothing the second time', async () => {
    const database = await createEmptyDatabase();
    const all = (await loadMigrations()).map((migration) => migration.name);
    const first = await migrateToLatest(database);
    expect(first.applied).toEqual(all);
    expect(first.repaired).toEqual([]);
    const shape = await readShape(database);
    const checkedAt = async () =>
      (await database.pool.query('SELECT checked_at FROM merit_schema_check')).rows[0].checked_at;
    const firstCheck = await checkedAt();

    const second = await migrateToLatest(database);
    expect(second).toEqual({ applied: [], repaired: [], warnings: [], all });
    expect(await readShape(database)).toEqual(shape);
    // The schema did not change since the last complete check, so it was not checked again.
    expect(await checkedAt()).toEqual(firstCheck);
    expect(await countRows(database, 'merit_migrations')).toBe(all.length);
  });

  it('lets three processes migrate at once: each migration is applied once, none fails', async () => {
    const database = await createEmptyDatabase();
    const others = [connectDatabase(database.url), connectDatabase(database.url)];
    try {
      const all = (await loadMigrations()).map((migration) => migration.name);
      const reports = await Promise.all([database, ...others].map((handle) => migrateToLatest(handle)));
      expect(reports.flatMap((report) => report.applied).sort()).toEqual(all);
      expect(reports.every((report) => report.repaired.length === 0)).toBe(true);
      expect(await countRows(database, 'merit_migrations')).toBe(all.length);
      const jobs = await database.pool.query("SELECT to_regclass('graphile_worker.jobs') AS jobs");
      expect(jobs.rows[0].jobs).not.toBeNull();
    } finally {
      for (const other of others) await other.close();
    }
  });

  it("adopts a database recorded by Kysely's Migrator without running its migrations again", async () => {
    const template = await createMigratedDatabase();
    const database = await createEmptyDatabase();
    const files = await loadMigrations();
    // The previous Merit: Kysely's Migrator over the first three migrations, recorded in kysely_migration.
    const kyselyMigrations: Record<string, KyselyMigration> = {};
    for (const migration of files.slice(0, 3)) {
      kyselyMigrations[migration.name] = {
        up: async (db) => {
          await sql.raw(migration.sql).execute(db);
        },
      };
    }
    const migrator = new Migrator({
      db: database.db,
      provider: { getMigrations: async () => kyselyMigrations },
    });
    const { error } = await migrator.migrateToLatest();
    expect(error).toBeUndefined();
    await database.pool.query(
      "INSERT INTO agents (agent_id, nickname, display_name, role) VALUES ('agent_z', 'zed', 'Zed', 'test')",
    );

    const report = await migrateToLatest(database);
    expect(report.applied).toEqual(files.slice(3).map((migration) => migration.name));
    expect(report.repaired).toEqual([]);
    const recorded = await database.pool.query('SELECT id, name FROM merit_migrations ORDER BY id');
    expect(recorded.rows).toEqual(files.map((migration) => ({ id: migration.id, name: migration.name })));
    const kysely = await database.pool.query(
      "SELECT to_regclass('kysely_migration') AS migrations, to_regclass('kysely_migration_lock') AS lock",
    );
    expect(kysely.rows[0]).toEqual({ migrations: null, lock: null });
    expect(await countRows(database, 'agents')).toBe(1);
    expect(await readShape(database)).toEqual(await readShape(template));
  });
});

describe("the seed guide's troubleshooting: drop and recreate, then init-db", () => {
  let app: TestApp;
  let reference: SchemaShape;

  beforeAll(async () => {
    reference = await readShape(await createMigratedDatabase());
  });
  afterEach(async () => {
    await app?.close();
  });

  it('recreates the dropped tables and the references to them, keeps the tasks, and the walkthrough works', async () => {
    app = await createTestApp('embedded');
    await app.database.pool.query(
      "INSERT INTO objective_templates (project_id, category, display_name) VALUES ('00000000-0000-0000-0000-000000000000', 'legal_review', 'Legal review')",
    );
    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'review the licence terms',
      objective_category: 'legal_review',
    });
    expect(created.status).toBe(201);
    const done = await app.call('POST', `/api/tasks/${created.body.id}/complete`, { result: 'All clear.' });
    expect(done.status).toBe(200);

    await app.database.pool.query(SEED_DROP_AND_RECREATE);
    const report = await prepareDatabase(app.database);

    expect(report.applied).toEqual([]);
    expect(report.repaired).toEqual(
      expect.arrayContaining([
        'table objective_templates',
        'table agent_performance_scores',
        'table agent_peer_evaluations',
        'table agent_node_performance',
        'table agent_performance_stats',
        'constraint tasks_project_id_objective_category_fkey on tasks',
        'constraint agent_category_stats_project_id_objective_category_fkey on agent_category_stats',
        'constraint routing_decisions_project_id_category_fkey on routing_decisions',
        'view routing_decision_outcomes',
        'categories legal_review (named by kept rows)',
      ]),
    );
    expect(report.warnings).toEqual([]);
    expect(await readShape(app.database)).toEqual(reference);
    expect(await countRows(app.database, 'tasks')).toBe(1);
    const stats = await app.database.pool.query(
      "SELECT total_tasks FROM agent_performance_stats WHERE agent_id = 'agent_a'",
    );
    expect(stats.rows).toEqual([{ total_tasks: 1 }]);

    // The seed walkthrough on the repaired schema: a task, its completion, a rating, the leaderboard.
    const task = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: '@bob research quantum computing',
      objective_category: 'research',
    });
    expect(task.status).toBe(201);
    expect(
      (await app.call('POST', `/api/tasks/${task.body.id}/complete`, { result: '## Qubits' })).status,
    ).toBe(200);
    const feedback = await app.call('POST', `/api/tasks/${task.body.id}/feedback`, { user_rating: 5 });
    expect(feedback.status).toBe(200);
    const board = await app.call('GET', '/api/agents/leaderboard');
    expect(board.status).toBe(200);
    expect(
      board.body.rankings.find((ranking: { nickname: string }) => ranking.nickname === 'bob'),
    ).toMatchObject({
      total_tasks: 2,
      rated_tasks: 1,
    });

    const again = await prepareDatabase(app.database);
    expect(again.repaired).toEqual([]);
  });

  it('recreates a dropped column, index and view on tables that are still there', async () => {
    app = await createTestApp('embedded');
    await app.database.pool.query(`
      DROP VIEW routing_decision_outcomes;
      ALTER TABLE agents DROP COLUMN model;
      DROP INDEX tasks_finished_idx;
    `);
    const report = await prepareDatabase(app.database);
    expect(report.repaired).toEqual(
      expect.arrayContaining([
        'column agents.model',
        'index tasks_finished_idx on tasks',
        'view routing_decision_outcomes',
      ]),
    );
    expect(await readShape(app.database)).toEqual(reference);
  });
});
