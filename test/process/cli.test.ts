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
  });

  it('lists its commands with --help', async () => {
    const { code, output } = await runMeritToEnd(['--help'], {});
    expect(code).toBe(0);
    for (const command of ['start', 'init-db', 'seed-demo', 'db-url']) expect(output).toContain(command);
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
