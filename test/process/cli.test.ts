import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, runMerit, runMeritToEnd } from '../support/process.js';

const SEED_TABLES = [
  'agent_performance_scores',
  'agent_peer_evaluations',
  'agent_node_performance',
  'agent_performance_stats',
  'objective_templates',
];

describe('npx merit init-db', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
    // An empty database: the template's tables are dropped so init-db creates them.
    await database.pool.query(
      'DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA graphile_worker CASCADE;',
    );
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("prints the seed's lines, then says the tables are up to date on a second run", async () => {
    const env = { DATABASE_URL: database.url };
    const first = await runMeritToEnd(['init-db'], env);
    expect(first.code).toBe(0);
    expect(first.output).toContain('🔧 Initializing performance tracking tables...');
    expect(first.output).toMatch(/📍 Database: 127\.0\.0\.1:\d+\/merit_template_\w+/);
    expect(first.output).toContain('✅ Performance tracking tables created successfully!');
    for (const table of SEED_TABLES) expect(first.output).toContain(`  - ${table}`);

    const second = await runMeritToEnd(['init-db'], env);
    expect(second.code).toBe(0);
    expect(second.output).toContain('up to date');
    expect(second.output).not.toContain('created successfully');
    const { rows } = await database.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining([...SEED_TABLES, 'agents', 'tasks']),
    );
    // Two whole runs, each migrating (15 files, the schema check) from a cold process start.
  }, 90_000);

  it('lists its commands with --help', async () => {
    const { code, output } = await runMeritToEnd(['--help'], {});
    expect(code).toBe(0);
    for (const command of ['start', 'init-db', 'seed-demo', 'db-url']) expect(output).toContain(command);
  });
});

describe("npx merit init-db after the seed guide's drop and recreate", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('repairs the tables, prints what it recreated, and Merit then starts and serves the walkthrough', async () => {
    await database.pool.query(
      `INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, status, result, completed_at)
       VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000001', 'agent_a', 'kept from before', 'research', 'completed', 'done', now())`,
    );
    // The guide's "Tables Already Exist Error" section, verbatim.
    await database.pool.query(`
      DROP TABLE IF EXISTS agent_performance_scores CASCADE;
      DROP TABLE IF EXISTS agent_peer_evaluations CASCADE;
      DROP TABLE IF EXISTS agent_node_performance CASCADE;
      DROP TABLE IF EXISTS agent_performance_stats CASCADE;
      DROP TABLE IF EXISTS objective_templates CASCADE;
    `);
    const env = { DATABASE_URL: database.url };
    const repair = await runMeritToEnd(['init-db'], env);
    expect(repair.code).toBe(0);
    expect(repair.output).toContain('✅ Performance tracking tables repaired! Existing rows were kept.');
    for (const table of SEED_TABLES) expect(repair.output).toContain(`  - table ${table}`);
    expect(repair.output).toContain('  - constraint tasks_project_id_objective_category_fkey on tasks');

    const again = await runMeritToEnd(['init-db'], env);
    expect(again.code).toBe(0);
    expect(again.output).toContain('up to date');

    const merit = runMerit(['start'], { ...env, PORT: String(await freePort()) });
    try {
      const [, url] = await merit.waitFor(/Merit is running at (http:\/\/\S+)/);
      const user = 'user_id=00000000-0000-0000-0000-000000000001';
      const post = (path: string, body: unknown) =>
        fetch(`${url}${path}?${user}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const created = await post('/api/tasks', {
        agent_id: 'agent_a',
        command: '@bob research quantum computing',
      });
      expect(created.status).toBe(201);
      const task = (await created.json()) as { id: string };
      expect((await post(`/api/tasks/${task.id}/complete`, { result: '## Qubits' })).status).toBe(200);
      expect((await post(`/api/tasks/${task.id}/feedback`, { user_rating: 5 })).status).toBe(200);
      const board = (await fetch(`${url}/api/agents/leaderboard?${user}`).then((response) =>
        response.json(),
      )) as {
        rankings: { nickname: string; total_tasks: number; rated_tasks: number }[];
      };
      expect(board.rankings.find((ranking) => ranking.nickname === 'bob')).toMatchObject({
        total_tasks: 2,
        rated_tasks: 1,
      });
    } finally {
      merit.child.kill('SIGINT');
      await merit.exited;
    }
  }, 120_000);

  it('explains a failure on stderr and exits 1', async () => {
    const url = new URL(database.url);
    url.pathname = '/merit_no_such_database';
    const child = spawn(process.execPath, ['bin/merit.js', 'init-db'], {
      env: { ...process.env, DATABASE_URL: url.toString() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('❌ Could not initialize the performance tracking tables in 127.0.0.1:');
    expect(stderr).toContain('database "merit_no_such_database" does not exist');
    expect(stderr).toContain('create it (createdb <name>) or fix DATABASE_URL');
  });
});

describe('npx merit start with the embedded database', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-start-'));
  });
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('starts, survives kill -9 (the next start reuses the left-over server), and stops cleanly on SIGINT', async () => {
    const env = {
      MERIT_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      MERIT_PG_PORT: String(await freePort()),
    };
    const first = runMerit(['start'], env);
    const [, url] = await first.waitFor(/Merit is running at (http:\/\/\S+)/);
    const health = await fetch(`${url}/api/health`).then((response) => response.json());
    expect(health).toMatchObject({ status: 'ok', database: { kind: 'embedded' } });
    const created = await fetch(`${url}/api/tasks?user_id=00000000-0000-0000-0000-000000000001`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'agent_a', command: 'acknowledged before the crash' }),
    });
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: string };

    first.child.kill('SIGKILL');
    await first.exited;

    const second = runMerit(['start'], env);
    await second.waitFor(/Merit is running at/);
    expect(second.output()).toContain('Reusing the PostgreSQL server left running');
    const again = await fetch(`${url}/api/tasks/${task.id}?user_id=00000000-0000-0000-0000-000000000001`);
    expect(again.status).toBe(200);

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('Merit stopped.');
    await expect(fs.access(path.join(dataDir, 'pg', 'postmaster.pid'))).rejects.toThrow();
  }, 120_000);
});
