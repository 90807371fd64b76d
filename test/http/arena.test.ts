import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../src/db/database.js';
import { ensureDefaultData } from '../../src/db/default-data.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey, insertProject } from '../../src/identity/identity.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, OTHER_USER, type TestApp } from '../support/app.js';
import { runDueJobs } from '../support/jobs.js';

const SIMULATION = { MERIT_SIMULATION_SEED: '42', MERIT_SIMULATION_SPEED: '100000' };

const battle = (modelA: string, modelB: string, winner: string, extra: Record<string, unknown> = {}) => ({
  model_a: modelA,
  model_b: modelB,
  winner,
  ...extra,
});

describe('the Arena API in local mode (embedded PostgreSQL)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded', SIMULATION);
  });
  afterAll(async () => {
    await app?.close();
  });

  const countBattles = async () =>
    Number(
      (
        await app.ctx.db
          .selectFrom('arena_battles')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('records battles, registers unknown contestants as external agents and skips a re-sent key', async () => {
    const battles = [
      battle('agent_a', 'gpt-4o', 'model_a', {
        key: 'k1',
        category: 'research',
        judge: 'ci',
        tstamp: 1_700_000_000.5,
      }),
      battle('bob', 'gpt-4o', 'tie', { key: 'k2', category: 'research' }),
      battle('GPT-4o', 'Claude 3', 'tie (bothbad)', { key: 'k3', category: 'coding', anony: true }),
    ];
    const first = await app.call('POST', '/api/arena/battles', { battles });
    expect(first.status).toBe(201);
    expect(first.body.accepted).toBe(3);
    expect(first.body.duplicates).toBe(0);
    expect(first.body.new_agents).toEqual(['claude_3', 'gpt_4o', 'gpt_4o_2']);

    const again = await app.call('POST', '/api/arena/battles', { battles });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3, new_agents: [] });

    const rows = await app.ctx.db
      .selectFrom('arena_battles')
      .selectAll()
      .where('external_key', 'in', ['api:k1', 'api:k2'])
      .orderBy('external_key')
      .execute();
    expect(rows.map((row) => [row.agent_a, row.agent_b, row.winner, row.source, row.judge])).toEqual([
      ['agent_a', 'gpt_4o', 'model_a', 'api', 'ci'],
      // `bob` is agent_a's nickname; without a judge the caller is named.
      ['agent_a', 'gpt_4o', 'tie', 'api', `user:00000000-0000-0000-0000-000000000001`],
    ]);
    expect(rows[0]?.tstamp.toISOString()).toBe('2023-11-14T22:13:20.500Z');
    const external = await app.ctx.db
      .selectFrom('agents')
      .select(['agent_id', 'external_name', 'origin'])
      .where('origin', '=', 'external')
      .orderBy('agent_id')
      .execute();
    expect(external).toEqual([
      { agent_id: 'claude_3', external_name: 'Claude 3', origin: 'external' },
      { agent_id: 'gpt_4o', external_name: 'gpt-4o', origin: 'external' },
      { agent_id: 'gpt_4o_2', external_name: 'GPT-4o', origin: 'external' },
    ]);
  });

  it('refuses bad battles naming the field, and stores nothing', async () => {
    const before = await countBattles();
    const cases: [unknown, string][] = [
      [{ battles: [battle('agent_a', 'agent_b', 'model_c')] }, 'winner'],
      [{ battles: [battle('agent_a', 'agent_a', 'model_a')] }, 'battles[0].model_b'],
      [{ battles: [battle('agent_a', 'bob', 'model_a')] }, 'battles[0].model_b'],
      [{ battles: [battle('', 'agent_b', 'model_a')] }, 'model_a'],
      [{ battles: [battle('agent_a', 'agent_b', 'model_a', { tstamp: 1_700_000_000_000 })] }, 'tstamp'],
      [{ battles: [battle('agent_a', 'agent_b', 'model_a', { extra: 1 })] }, 'extra'],
      [{ battles: [] }, 'battles'],
    ];
    for (const [body, field] of cases) {
      const response = await app.call('POST', '/api/arena/battles', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.message).toContain(field);
    }
    expect(await countBattles()).toBe(before);
    const board = await app.call('GET', '/api/arena/leaderboard?rounds=50');
    expect(board.status).toBe(400);
    expect(board.body.error.message).toContain('rounds');
  });

  it('answers the leaderboard: ratings with mean 1000, intervals, ranks, win rates and counts, reproducibly', async () => {
    const many = [
      ...Array.from({ length: 30 }, (_, i) => battle('agent_c', 'agent_d', i < 24 ? 'model_a' : 'model_b')),
      ...Array.from({ length: 30 }, (_, i) => battle('agent_d', 'agent_e', i < 18 ? 'model_a' : 'tie')),
      ...Array.from({ length: 20 }, (_, i) => battle('agent_c', 'agent_e', i < 19 ? 'model_a' : 'model_b')),
    ].map((row) => ({ ...row, category: 'planning' }));
    expect((await app.call('POST', '/api/arena/battles', { battles: many })).status).toBe(201);

    const board = await app.call('GET', '/api/arena/leaderboard?category=planning&rounds=100&seed=5');
    expect(board.status).toBe(200);
    expect(board.body).toMatchObject({
      category: 'planning',
      total_battles: 80,
      bootstrap_rounds: 100,
      seed: 5,
    });
    const ratings = board.body.ratings as {
      agent_id: string;
      nickname: string;
      rating: number;
      lower: number;
      upper: number;
      rank: number;
      battles: number;
    }[];
    expect(ratings.map((r) => r.agent_id)).toEqual(['agent_c', 'agent_d', 'agent_e']);
    expect(ratings.map((r) => r.nickname)).toEqual(['rex', 'kai', 'maya']);
    expect(ratings.map((r) => r.battles)).toEqual([50, 60, 50]);
    const mean = ratings.reduce((sum, r) => sum + r.rating, 0) / 3;
    expect(Math.abs(mean - 1000)).toBeLessThan(0.2);
    for (const r of ratings) {
      expect(r.lower).toBeLessThanOrEqual(r.rating);
      expect(r.upper).toBeGreaterThanOrEqual(r.rating);
    }
    expect(ratings[0]?.rank).toBe(1);
    expect(board.body.win_rates.agent_c.agent_d).toBe(0.8);
    expect(board.body.win_rates.agent_d.agent_e).toBe(0.8);
    expect(board.body.battle_counts.agent_c.agent_e).toBe(20);
    expect(board.body.categories).toEqual(
      expect.arrayContaining([
        { category: 'planning', battles: 80 },
        { category: 'research', battles: 2 },
      ]),
    );

    const again = await app.call('GET', '/api/arena/leaderboard?category=planning&rounds=100&seed=5');
    expect(again.body).toEqual(board.body);

    const overall = await app.call('GET', '/api/arena/leaderboard');
    expect(overall.status).toBe(200);
    expect(overall.body.category).toBeNull();
    expect(overall.body.total_battles).toBe(83);
    expect(overall.body.bootstrap_rounds).toBeGreaterThanOrEqual(100);
    expect(overall.body.ratings.map((r: { agent_id: string }) => r.agent_id)).toEqual(
      expect.arrayContaining(['agent_a', 'gpt_4o', 'claude_3', 'agent_c']),
    );

    // A new battle is counted at once (a leaderboard computed before is not served again).
    const more = await app.call('POST', '/api/arena/battles', {
      battles: [battle('agent_e', 'agent_c', 'model_a')],
    });
    expect(more.status).toBe(201);
    const updated = await app.call('GET', '/api/arena/leaderboard');
    expect(updated.body.total_battles).toBe(84);
    expect(updated.body.win_rates.agent_e.agent_c).toBeCloseTo(2 / 21, 3);

    const empty = await app.call('GET', '/api/arena/leaderboard?category=nothing_here');
    expect(empty.body).toMatchObject({ total_battles: 0, ratings: [], win_rates: {}, battle_counts: {} });
  });

  it('runs a blind comparison: two tasks, answers as A and B without names, a vote that reveals them', async () => {
    const created = await app.call('POST', '/api/arena/compare', {
      command: 'research the history of tidal power',
      agents: ['agent_a', 'agent_b'],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body.status).toBe('answering');
    expect(created.body.agents).toBeNull();
    expect(JSON.stringify(created.body)).not.toMatch(/agent_a|agent_b|bob|sue/);
    expect(Object.keys(created.body.answers)).toEqual(['A', 'B']);

    const stored = await app.ctx.db
      .selectFrom('arena_comparisons')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect([stored.agent_a, stored.agent_b].sort()).toEqual(['agent_a', 'agent_b']);
    const tasks = await app.ctx.db
      .selectFrom('tasks')
      .select(['id', 'agent_id', 'status', 'source', 'command'])
      .where('id', 'in', [stored.task_a_id as string, stored.task_b_id as string])
      .execute();
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      expect(task).toMatchObject({
        status: 'queued',
        source: 'mission_control',
        command: 'research the history of tidal power',
      });
    }

    const early = await app.call('POST', `/api/arena/compare/${id}/vote`, { winner: 'A' });
    expect(early.status).toBe(409);

    await runDueJobs(app);
    const ready = await app.call('GET', `/api/arena/compare/${id}`);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.agents).toBeNull();
    expect(ready.body.answers.A.status).toMatch(/completed|failed/);
    expect(ready.body.answers.B.status).toMatch(/completed|failed/);

    const badVote = await app.call('POST', `/api/arena/compare/${id}/vote`, { winner: 'C' });
    expect(badVote.status).toBe(400);
    expect(badVote.body.error.message).toContain('winner');

    const voted = await app.call('POST', `/api/arena/compare/${id}/vote`, { winner: 'B' });
    expect(voted.status).toBe(200);
    expect(voted.body.status).toBe('voted');
    expect(voted.body.vote).toBe('B');
    expect(voted.body.agents.A.agent_id).toBe(stored.agent_a);
    expect(voted.body.agents.B.agent_id).toBe(stored.agent_b);
    expect(voted.body.agents.A.task_id).toBe(stored.task_a_id);
    expect(voted.body.battles).toEqual([
      expect.objectContaining({
        winner: 'model_b',
        source: 'vote',
        judge: 'user:00000000-0000-0000-0000-000000000001',
      }),
    ]);
    const battleRow = await app.ctx.db
      .selectFrom('arena_battles')
      .selectAll()
      .where('comparison_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(battleRow).toMatchObject({
      agent_a: stored.agent_a,
      agent_b: stored.agent_b,
      winner: 'model_b',
      anony: true,
      task_a_id: stored.task_a_id,
      task_b_id: stored.task_b_id,
      category: stored.category,
    });

    const twice = await app.call('POST', `/api/arena/compare/${id}/vote`, { winner: 'A' });
    expect(twice.status).toBe(409);
    expect(
      await app.ctx.db.selectFrom('arena_battles').select('id').where('comparison_id', '=', id).execute(),
    ).toHaveLength(1);
  });

  it('lets the router draw two different agents Merit runs when none are named', async () => {
    const created = await app.call('POST', '/api/arena/compare', { command: 'write a haiku about autumn' });
    expect(created.status).toBe(201);
    const stored = await app.ctx.db
      .selectFrom('arena_comparisons')
      .select(['agent_a', 'agent_b'])
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(stored.agent_a).not.toBe(stored.agent_b);
    const agents = await app.ctx.db
      .selectFrom('agents')
      .select(['agent_id', 'origin', 'is_orchestrator', 'active'])
      .where('agent_id', 'in', [stored.agent_a, stored.agent_b])
      .where('project_id', '=', DEFAULT_PROJECT_ID)
      .execute();
    expect(agents).toHaveLength(2);
    for (const agent of agents)
      expect(agent).toMatchObject({ origin: 'merit', is_orchestrator: false, active: true });
  });

  it('refuses comparisons it cannot run blind, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ command: '@bob research tides' }, 'command'],
      [{ command: 'research tides', agents: ['agent_a', 'agent_a'] }, 'agents'],
      [{ command: 'research tides', agents: ['agent_a', 'gpt_4o'] }, 'agents'],
      [{ command: 'research tides', agents: ['agent_a', 'nobody'] }, 'agents'],
      [{ command: 'research tides', agents: ['agent_a'] }, 'agents'],
      [{ command: '   ' }, 'command'],
    ];
    const before = await app.ctx.db.selectFrom('arena_comparisons').select('id').execute();
    for (const [body, field] of cases) {
      const response = await app.call('POST', '/api/arena/compare', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.message).toContain(field);
    }
    expect(await app.ctx.db.selectFrom('arena_comparisons').select('id').execute()).toHaveLength(
      before.length,
    );
    expect((await app.call('GET', `/api/arena/compare/${randomUUID()}`)).status).toBe(404);
    expect((await app.call('GET', '/api/arena/compare/not-a-uuid')).status).toBe(400);
  });

  it("does not show a local user another user's comparison", async () => {
    const created = await app.call('POST', '/api/arena/compare', {
      command: 'summarize the week',
      agents: ['agent_c', 'agent_d'],
    });
    expect(created.status).toBe(201);
    const other = await app.call('GET', `/api/arena/compare/${created.body.id}`, undefined, {
      user: OTHER_USER,
    });
    expect(other.status).toBe(404);
    const vote = await app.call(
      'POST',
      `/api/arena/compare/${created.body.id}/vote`,
      { winner: 'A' },
      { user: OTHER_USER },
    );
    expect(vote.status).toBe(404);
  });
});

describe('Arena isolation between projects (required mode)', () => {
  let app: TestApp;
  let keyA: string;
  let keyB: string;
  let readOnlyA: string;

  async function createKey(projectId: string, scopes: KeyScope[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId,
      name: `test ${scopes.join(',')}`,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  async function call(key: string, method: string, path: string, body?: unknown) {
    const response = await app.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_AUTH: 'required', ...SIMULATION });
    const other = await insertProject(app.ctx.db, { slug: 'team-b', name: 'Team B' });
    await ensureDefaultData(app.ctx.db, other.id);
    keyA = await createKey(DEFAULT_PROJECT_ID, ['ingest', 'read', 'feedback']);
    keyB = await createKey(other.id, ['ingest', 'read', 'feedback']);
    readOnlyA = await createKey(DEFAULT_PROJECT_ID, ['read']);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("keeps each project's battles, contestants and comparisons to itself", async () => {
    const recorded = await call(keyA, 'POST', '/api/arena/battles', {
      battles: [battle('agent_a', 'Secret Model', 'model_b'), battle('agent_b', 'Secret Model', 'model_b')],
    });
    expect(recorded.status).toBe(201);
    const boardA = await call(keyA, 'GET', '/api/arena/leaderboard');
    expect(boardA.body.total_battles).toBe(2);
    const boardB = await call(keyB, 'GET', '/api/arena/leaderboard');
    expect(boardB.status).toBe(200);
    expect(boardB.body).toMatchObject({ total_battles: 0, ratings: [] });
    const secretInB = await app.ctx.db
      .selectFrom('agents')
      .select('agent_id')
      .where('external_name', '=', 'Secret Model')
      .execute();
    expect(secretInB).toHaveLength(1);

    const compared = await call(keyA, 'POST', '/api/arena/compare', {
      command: 'research quantum sensors',
      agents: ['agent_a', 'agent_b'],
    });
    expect(compared.status).toBe(201);
    expect((await call(keyB, 'GET', `/api/arena/compare/${compared.body.id}`)).status).toBe(404);
    expect(
      (await call(keyB, 'POST', `/api/arena/compare/${compared.body.id}/vote`, { winner: 'A' })).status,
    ).toBe(404);
    // Project A's external contestant is not a contestant B can compare.
    const foreign = await call(keyB, 'POST', '/api/arena/compare', {
      command: 'research quantum sensors',
      agents: ['agent_a', 'secret_model'],
    });
    expect(foreign.status).toBe(400);
  });

  it('asks for the permission each route needs', async () => {
    const write = await call(readOnlyA, 'POST', '/api/arena/battles', {
      battles: [battle('agent_a', 'agent_b', 'model_a')],
    });
    expect(write.status).toBe(403);
    const compare = await call(readOnlyA, 'POST', '/api/arena/compare', { command: 'research tides' });
    expect(compare.status).toBe(403);
    const vote = await call(readOnlyA, 'POST', `/api/arena/compare/${randomUUID()}/vote`, { winner: 'tie' });
    expect(vote.status).toBe(403);
    expect((await call(readOnlyA, 'GET', '/api/arena/leaderboard')).status).toBe(200);
  });
});
