import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawExampleBattles, EXAMPLE_STRENGTHS } from '../../bench/arena/generate-example-battles.js';
import { type ArenaOutcome, computeArenaLeaderboard } from '../../src/arena/bradley-terry.js';
import { createServices } from '../../src/server.js';
import { testConfig, USER } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runMeritToEnd } from '../support/process.js';

const EXAMPLE_FILE = path.resolve(import.meta.dirname, '..', '..', 'bench', 'arena', 'example-battles.json');

/** `npx merit arena import FILE` as an operator runs it, against a real database. */
describe('the arena import command', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
    env = { DATABASE_URL: database.url };
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-arena-'));
  });
  afterAll(async () => {
    await database?.drop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const countBattles = async () =>
    Number((await database.pool.query('SELECT count(*)::int AS n FROM arena_battles')).rows[0].n);

  it('imports the example file, registers its contestants as external agents, and adds nothing the second time', async () => {
    const rows = JSON.parse(await fs.readFile(EXAMPLE_FILE, 'utf8')) as unknown[];
    // The example file is what its generator draws (seed 7, 400 battles).
    expect(rows).toEqual(drawExampleBattles(400, 7));

    const first = await runMeritToEnd(['arena', 'import', EXAMPLE_FILE], env);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(
      /Imported 400 of 400 battles \(0 already present\) between 6 contestants \(6 new external agents\) into project default in [\d.]+ s\./,
    );
    expect(first.output).toMatch(/Importing battles: 400\/400 \(100%\)/);
    expect(await countBattles()).toBe(400);
    const agents = await database.pool.query(
      "SELECT agent_id, external_name FROM agents WHERE origin = 'external' ORDER BY agent_id",
    );
    expect(agents.rows.map((row) => row.external_name).sort()).toEqual(Object.keys(EXAMPLE_STRENGTHS).sort());
    const sample = await database.pool.query(
      'SELECT a.external_name AS a, b.external_name AS b, winner, judge, source, anony, category, tstamp FROM arena_battles x JOIN agents a ON a.project_id = x.project_id AND a.agent_id = x.agent_a JOIN agents b ON b.project_id = x.project_id AND b.agent_id = x.agent_b WHERE x.tstamp = to_timestamp(1717200000)',
    );
    expect(sample.rows).toEqual([
      {
        a: 'gpt-4o',
        b: 'vicuna-13b',
        winner: 'model_a',
        judge: 'arena_user_16',
        source: 'import',
        anony: true,
        category: 'writing',
        tstamp: new Date(1_717_200_000_000),
      },
    ]);

    const again = await runMeritToEnd(['arena', 'import', EXAMPLE_FILE], env);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(
      'Imported 0 of 400 battles (400 already present) between 6 contestants (0 new external agents)',
    );
    expect(await countBattles()).toBe(400);

    // What was stored rates the contestants exactly as the file does.
    const stored = await database.pool.query(
      'SELECT a.external_name AS agent_a, b.external_name AS agent_b, winner FROM arena_battles x JOIN agents a ON a.project_id = x.project_id AND a.agent_id = x.agent_a JOIN agents b ON b.project_id = x.project_id AND b.agent_id = x.agent_b',
    );
    const fromDatabase = computeArenaLeaderboard(
      stored.rows.map((row) => ({ agentA: row.agent_a, agentB: row.agent_b, winner: row.winner })),
      { rounds: 100 },
    );
    const fromFile = computeArenaLeaderboard(
      drawExampleBattles(400, 7).map((row) => ({
        agentA: row.model_a,
        agentB: row.model_b,
        winner: row.winner as ArenaOutcome,
      })),
      { rounds: 100 },
    );
    expect(fromDatabase.pairs).toEqual(fromFile.pairs);
    // The API's leaderboard reads the battles in the file's order (by time): its intervals are the file's.
    const services = createServices(testConfig(), { handle: database, kind: 'external', label: 'cli' });
    const response = await services.app.request(`/api/arena/leaderboard?user_id=${USER}`);
    expect(response.status).toBe(200);
    const board = (await response.json()) as {
      ratings: { display_name: string; lower: number; upper: number }[];
    };
    const fromFileDefault = computeArenaLeaderboard(
      drawExampleBattles(400, 7).map((row) => ({
        agentA: row.model_a,
        agentB: row.model_b,
        winner: row.winner as ArenaOutcome,
      })),
    );
    expect(board.ratings.map((rating) => [rating.display_name, rating.lower, rating.upper])).toEqual(
      fromFileDefault.ratings.map((rating) => [
        rating.agentId,
        Math.round((rating.lower as number) * 10) / 10,
        Math.round((rating.upper as number) * 10) / 10,
      ]),
    );
    expect(fromDatabase.ratings.map((rating) => [rating.agentId, rating.rating.toFixed(6)])).toEqual(
      fromFile.ratings.map((rating) => [rating.agentId, rating.rating.toFixed(6)]),
    );
  }, 120_000);

  it('counts identical rows as separate battles, and a re-import of a grown file adds only the new rows', async () => {
    const file = path.join(dir, 'grown.json');
    const row = { model_a: 'alpha', model_b: 'beta', winner: 'tie', language: 'German' };
    await fs.writeFile(file, JSON.stringify([row, row]));
    const first = await runMeritToEnd(['arena', 'import', file, '--judge', 'panel'], env);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain(
      'Imported 2 of 2 battles (0 already present) between 2 contestants (2 new external agents)',
    );
    await fs.writeFile(file, JSON.stringify([row, row, { ...row, winner: 'model_a' }]));
    const grown = await runMeritToEnd(['arena', 'import', file], env);
    expect(grown.code, grown.output).toBe(0);
    expect(grown.output).toContain('Imported 1 of 3 battles (2 already present)');
    const judges = await database.pool.query(
      "SELECT judge, category, count(*)::int AS n FROM arena_battles WHERE category = 'German' GROUP BY 1, 2 ORDER BY 1",
    );
    expect(judges.rows).toEqual([
      { judge: 'import:grown.json', category: 'German', n: 1 },
      { judge: 'panel', category: 'German', n: 2 },
    ]);
  }, 120_000);

  it('refuses a bad file naming the rows and fields, and writes nothing', async () => {
    const before = await countBattles();
    const bad = path.join(dir, 'bad.json');
    await fs.writeFile(
      bad,
      JSON.stringify([
        { model_a: 'x', model_b: 'y', winner: 'model_a' },
        { model_a: 'x', model_b: 'y', winner: 'model_c' },
        { model_a: 'x', model_b: 'x', winner: 'tie' },
        { model_b: 'y', winner: 'tie' },
      ]),
    );
    const refused = await runMeritToEnd(['arena', 'import', bad], env);
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('3 of 4 rows are invalid; nothing was imported');
    expect(refused.output).toContain('row 1: winner');
    expect(refused.output).toContain('row 2: model_b: names the same contestant as model_a');
    expect(refused.output).toContain('row 3: model_a');

    const notJson = path.join(dir, 'not.json');
    await fs.writeFile(notJson, '{"model_a": ');
    const broken = await runMeritToEnd(['arena', 'import', notJson], env);
    expect(broken.code).toBe(2);
    expect(broken.output).toContain('not valid JSON');

    const missing = await runMeritToEnd(['arena', 'import', path.join(dir, 'nope.json')], env);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('cannot read');

    const project = await runMeritToEnd(['arena', 'import', EXAMPLE_FILE, '--project', 'nowhere'], env);
    expect(project.code).toBe(2);
    expect(project.output).toContain('no project nowhere');

    const usage = await runMeritToEnd(['arena', 'export'], env);
    expect(usage.code).toBe(2);
    expect(usage.output).toContain("unknown arena command 'export'");

    expect(await countBattles()).toBe(before);
    const strays = await database.pool.query(
      "SELECT count(*)::int AS n FROM agents WHERE external_name IN ('x', 'y')",
    );
    expect(strays.rows[0].n).toBe(0);
  }, 180_000);
});
