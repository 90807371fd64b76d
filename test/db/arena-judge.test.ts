import { runOnce } from 'graphile-worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createArenaJobs } from '../../src/arena/arena.jobs.js';
import {
  combineSwappedVerdicts,
  judgePairOffline,
  judgePairWithLlm,
} from '../../src/arena/pairwise-judge.js';
import { silentWorkerLogger } from '../../src/lib/log.js';
import { createLlmProvider, type LlmProvider } from '../../src/llm/provider.js';
import { buildTaskList } from '../../src/worker.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { type FakeLlmServer, startFakeLlmServer } from '../support/fake-llm-server.js';
import { GOOD_RESEARCH_OUTPUT, listJobs, makeJobsDue, runDueJobs } from '../support/jobs.js';

const SIMULATION = { MERIT_SIMULATION_SEED: '42', MERIT_SIMULATION_SPEED: '100000' };

describe('the pairwise judge', () => {
  it('keeps a verdict both orders agree on and makes a disagreement a tie', () => {
    expect(combineSwappedVerdicts('first', 'second')).toEqual({ winner: 'model_a', consistent: true });
    expect(combineSwappedVerdicts('second', 'first')).toEqual({ winner: 'model_b', consistent: true });
    expect(combineSwappedVerdicts('tie', 'tie')).toEqual({ winner: 'tie', consistent: true });
    expect(combineSwappedVerdicts('bothbad', 'bothbad')).toEqual({
      winner: 'tie (bothbad)',
      consistent: true,
    });
    // Position bias: the first answer wins whichever it is.
    expect(combineSwappedVerdicts('first', 'first')).toEqual({ winner: 'tie', consistent: false });
    expect(combineSwappedVerdicts('first', 'tie')).toEqual({ winner: 'tie', consistent: false });
    expect(combineSwappedVerdicts('bothbad', 'tie')).toEqual({ winner: 'tie', consistent: false });
  });

  it('compares offline by the heuristic scores, mirrored when the answers swap, and says so', () => {
    const input = { command: 'research quantum computing error correction', category: 'research' };
    const good = judgePairOffline({ ...input, answerA: GOOD_RESEARCH_OUTPUT, answerB: 'ok' });
    expect(good.winner).toBe('model_a');
    expect(good.judge).toBe('heuristic');
    expect(good.reasoning).toContain('Offline comparison (no LLM configured)');
    expect(judgePairOffline({ ...input, answerA: 'ok', answerB: GOOD_RESEARCH_OUTPUT }).winner).toBe(
      'model_b',
    );
    expect(
      judgePairOffline({ ...input, answerA: GOOD_RESEARCH_OUTPUT, answerB: GOOD_RESEARCH_OUTPUT }).winner,
    ).toBe('tie');
    expect(judgePairOffline({ ...input, answerA: null, answerB: '' }).winner).toBe('tie (bothbad)');
  });

  describe('against an LLM over HTTP', () => {
    let fake: FakeLlmServer;
    let provider: LlmProvider;

    beforeAll(async () => {
      fake = await startFakeLlmServer();
      provider = createLlmProvider({
        kind: 'openai',
        baseUrl: fake.baseUrl,
        model: 'gpt-4o-mini',
        timeoutMs: 5000,
      });
    });
    afterAll(async () => {
      await fake?.close();
    });
    beforeEach(() => fake.reset());

    const input = { command: 'name a prime', category: 'question', answerA: 'SEVEN', answerB: 'EIGHT' };

    it('asks twice with the order swapped and keeps an agreed verdict', async () => {
      fake.script([
        { json: { winner: 'first', reasoning: 'Seven is prime.' } },
        { json: { winner: 'second', reasoning: 'Seven is prime, eight is not.' } },
      ]);
      const verdict = await judgePairWithLlm(provider, input);
      expect(verdict).toMatchObject({ winner: 'model_a', judge: 'llm', consistent: true });
      expect(verdict.reasoning).toContain('A first chose A, B first chose A');
      expect(verdict.usage).toMatchObject({ promptTokens: 240, completionTokens: 60 });
      expect(fake.requests).toHaveLength(2);
      const prompts = fake.requests.map((request) => JSON.stringify(request.body.messages));
      expect(prompts[0]?.indexOf('SEVEN')).toBeLessThan(prompts[0]?.indexOf('EIGHT') as number);
      expect(prompts[1]?.indexOf('EIGHT')).toBeLessThan(prompts[1]?.indexOf('SEVEN') as number);
    });

    it('counts a verdict that follows the position as a tie', async () => {
      fake.script([
        { json: { winner: 'first', reasoning: 'The first is better.' } },
        { json: { winner: 'first', reasoning: 'The first is better.' } },
      ]);
      const verdict = await judgePairWithLlm(provider, input);
      expect(verdict).toMatchObject({ winner: 'tie', consistent: false });
      expect(verdict.reasoning).toContain('the verdicts disagree, so the battle counts as a tie');
    });

    it('asks again when an answer is not the JSON asked for', async () => {
      fake.script([
        { text: 'I think the first one' },
        { json: { winner: 'second', reasoning: 'Eight is not prime.' } },
        { json: { winner: 'first', reasoning: 'Eight is not prime.' } },
      ]);
      const verdict = await judgePairWithLlm(provider, input);
      expect(verdict.winner).toBe('model_b');
      expect(fake.requests).toHaveLength(3);
    });
  });
});

describe('the arena judge job (embedded PostgreSQL)', () => {
  let app: TestApp;
  let fake: FakeLlmServer;

  beforeAll(async () => {
    app = await createTestApp('embedded', SIMULATION);
    fake = await startFakeLlmServer();
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  async function runJobs(provider?: LlmProvider) {
    await makeJobsDue(app);
    await runOnce({
      pgPool: app.database.pool,
      taskList: { ...buildTaskList(app.ctx), ...createArenaJobs(app.ctx, provider ? { provider } : {}) },
      logger: silentWorkerLogger(),
      noHandleSignals: true,
    });
  }

  it('waits for both answers, then records the LLM verdict once as an llm_judge battle', async () => {
    const created = await app.call('POST', '/api/arena/compare', {
      command: 'research tidal power',
      agents: ['agent_a', 'agent_c'],
      llm_judge: true,
    });
    expect(created.status).toBe(201);
    expect(created.body.llm_judge).toBe(true);
    const id = created.body.id as string;
    const jobs = await listJobs(app);
    expect(jobs.map((job) => job.task_identifier).sort()).toEqual([
      'arena_judge_comparison',
      'run_agent_task',
      'run_agent_task',
    ]);

    // Both answers and then the judge run in this one pass (the judge was made due with the agents).
    fake.script([
      { json: { winner: 'second', reasoning: 'B covers more.' } },
      { json: { winner: 'first', reasoning: 'B covers more.' } },
    ]);
    const provider = createLlmProvider({
      kind: 'openai',
      baseUrl: fake.baseUrl,
      model: 'gpt-4o-mini',
      timeoutMs: 5000,
    });
    await runJobs(provider);
    await runJobs(provider);
    const battles = await app.ctx.db
      .selectFrom('arena_battles')
      .selectAll()
      .where('comparison_id', '=', id)
      .execute();
    expect(battles).toHaveLength(1);
    expect(battles[0]).toMatchObject({ source: 'llm_judge', judge: 'llm', winner: 'model_b', anony: true });
    expect(battles[0]?.reasoning).toContain('gpt-4o-mini');
    expect(fake.requests).toHaveLength(2);

    // The verdict is shown with the names, after the user's own vote; both battles count.
    const before = await app.call('GET', `/api/arena/compare/${id}`);
    expect(before.body.battles).toEqual([]);
    const voted = await app.call('POST', `/api/arena/compare/${id}/vote`, { winner: 'A' });
    expect(voted.status).toBe(200);
    expect(voted.body.battles.map((battle: { source: string }) => battle.source).sort()).toEqual([
      'llm_judge',
      'vote',
    ]);
    const board = await app.call('GET', '/api/arena/leaderboard');
    expect(board.body.total_battles).toBe(2);
  });

  it('looks again later while an answer is still coming, then judges', async () => {
    const created = await app.call('POST', '/api/arena/compare', {
      command: 'plan a small product launch',
      agents: ['agent_e', 'agent_f'],
      llm_judge: true,
    });
    expect(created.status).toBe(201);
    const pool = app.database.pool;
    // The agents' jobs wait an hour; only the judge is due.
    await pool.query(
      "SELECT graphile_worker.reschedule_jobs(ARRAY(SELECT id FROM graphile_worker.jobs WHERE task_identifier = 'run_agent_task'), run_at := now() + interval '1 hour')",
    );
    await pool.query(
      "SELECT graphile_worker.reschedule_jobs(ARRAY(SELECT id FROM graphile_worker.jobs WHERE task_identifier = 'arena_judge_comparison'), run_at := now())",
    );
    await runOnce({
      pgPool: pool,
      taskList: { ...buildTaskList(app.ctx), ...createArenaJobs(app.ctx) },
      logger: silentWorkerLogger(),
      noHandleSignals: true,
    });
    const waiting = await pool.query(
      "SELECT key, run_at > now() AS later FROM graphile_worker.jobs WHERE task_identifier = 'arena_judge_comparison'",
    );
    expect(waiting.rows).toEqual([{ key: `arena_judge_comparison:${created.body.id}`, later: true }]);
    const none = await app.ctx.db
      .selectFrom('arena_battles')
      .select('id')
      .where('comparison_id', '=', created.body.id)
      .execute();
    expect(none).toEqual([]);

    await runJobs();
    await runJobs();
    const judged = await app.ctx.db
      .selectFrom('arena_battles')
      .select(['source', 'judge'])
      .where('comparison_id', '=', created.body.id)
      .execute();
    expect(judged).toEqual([{ source: 'llm_judge', judge: 'heuristic' }]);
  });

  it('uses the labelled offline comparison when no LLM is configured', async () => {
    const created = await app.call('POST', '/api/arena/compare', {
      command: 'summarize the quarterly plan',
      agents: ['agent_b', 'agent_d'],
      llm_judge: true,
    });
    expect(created.status).toBe(201);
    await runDueJobs(app);
    await runJobs();
    const battle = await app.ctx.db
      .selectFrom('arena_battles')
      .selectAll()
      .where('comparison_id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(battle).toMatchObject({ source: 'llm_judge', judge: 'heuristic' });
    expect(battle.reasoning).toContain('Offline comparison (no LLM configured)');
  });
});
