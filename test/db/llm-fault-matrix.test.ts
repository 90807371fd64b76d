/**
 * Issue 9's fault matrix: every LLM fault (401, 429 with Retry-After then an answer, a persistent 500, a
 * hang, bad JSON, a schema violation, missing usage) against every component that calls an LLM (an
 * agent's run, the judge, each reviewer, all evaluators at once, the command classifier). Merit runs
 * against a real HTTP server on loopback, its jobs through graphile-worker, and each cell asserts what
 * PostgreSQL finally holds. Every expected number comes from the usage the fake LLM reports.
 */
import { runOnce } from 'graphile-worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgentJobs } from '../../src/agents/agents.jobs.js';
import { silentWorkerLogger } from '../../src/lib/log.js';
import { estimateCost } from '../../src/llm/pricing.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  type FakeLlmServer,
  type FakeReply,
  type FakeUsage,
  type RecordedRequest,
  startFakeLlmServer,
} from '../support/fake-llm-server.js';
import { completeTask, deleteQueuedJobs, listJobs, makeJobsDue, runDueJobs } from '../support/jobs.js';

type Role = 'agent' | 'judge' | 'kai' | 'maya' | 'classifier';
type FaultName = '401' | '429' | '500' | 'hang' | 'bad JSON' | 'schema violation' | 'missing usage';

const EVALUATOR_MODEL = 'gpt-4o-mini';
const AGENT_MODEL = 'gpt-4o';
const TIMEOUT_MS = 300;
const KAI = 'agent_d';
const MAYA = 'agent_e';

// Distinct figures per caller, so a sum that mixes two callers' usage cannot pass.
const PLAN_USAGE: FakeUsage = { promptTokens: 310, completionTokens: 41 };
const ANSWER_USAGE: FakeUsage = { promptTokens: 920, completionTokens: 377 };
const JUDGE_USAGE: FakeUsage = { promptTokens: 1003, completionTokens: 97 };
const REVIEW_USAGE: Record<'kai' | 'maya', FakeUsage> = {
  kai: { promptTokens: 811, completionTokens: 53 },
  maya: { promptTokens: 707, completionTokens: 61 },
};
// What each paid but unusable answer (bad JSON, schema violation) reports.
const FAULT_USAGE: FakeUsage = { promptTokens: 211, completionTokens: 13 };

const JUDGED = 0.9;
const REVIEWED = 0.6;
const VERDICT = { accuracy: JUDGED, relevance: JUDGED, completeness: JUDGED, reasoning: 'Accurate.' };
const REVIEW = {
  score: REVIEWED,
  strengths: ['Clear'],
  weaknesses: ['Short'],
  suggestions: ['Add sources'],
  review_text: 'Solid work with gaps.',
};
const ANSWER_TEXT = '## Findings\n\nSurface codes lead quantum error correction.';
// The offline classifier files this under writing; the healthy LLM answers compliance.
const UNMENTIONED_COMMAND = 'draft a press release for the product launch';
const LLM_CATEGORY = { category: 'compliance', confidence: 0.93 };

function roleOf(request: RecordedRequest): Role {
  const messages = request.body.messages as { role: string; content: string }[];
  const system = messages.find((message) => message.role === 'system')?.content ?? '';
  if (system.startsWith('You classify a user command')) return 'classifier';
  if (system.includes('impartial evaluator')) return 'judge';
  const reviewer = /^You are (\w+), an AI agent on a team, reviewing/.exec(system)?.[1];
  if (reviewer === 'kai' || reviewer === 'maya') return reviewer;
  return 'agent';
}

/** The healthy answer to a role's call number `call` (from 0); the agent plans first, then answers. */
function healthyReply(role: Role, call: number): FakeReply {
  switch (role) {
    case 'agent':
      return call === 0
        ? { text: '1. Look up the sources\n2. Answer', usage: PLAN_USAGE }
        : { text: ANSWER_TEXT, usage: ANSWER_USAGE };
    case 'judge':
      return { json: VERDICT, usage: JUDGE_USAGE };
    case 'kai':
    case 'maya':
      return { json: REVIEW, usage: REVIEW_USAGE[role] };
    case 'classifier':
      return { json: LLM_CATEGORY };
  }
}

/**
 * The faulty answer to a faulted role's call. The agent's answer is free text, so its bad JSON and schema
 * violation are the provider's own body (not JSON; JSON without choices); the others ask for JSON, so
 * theirs are in the answer's content, paid for with FAULT_USAGE.
 */
function faultyReply(fault: FaultName, role: Role, call: number): FakeReply {
  switch (fault) {
    case '401':
      return { status: 401, body: { error: { message: 'invalid api key' } } };
    case '429':
      return call === 0 ? { status: 429, headers: { 'retry-after': '1' } } : healthyReply(role, call);
    case '500':
      return { status: 500 };
    case 'hang':
      return { delayMs: 5_000 };
    case 'bad JSON':
      return role === 'agent'
        ? { status: 200, body: '<html>502 Bad Gateway</html>' }
        : { malformed: true, usage: FAULT_USAGE };
    case 'schema violation':
      if (role === 'agent') return { status: 200, body: { id: 'chatcmpl-1', choices: [] } };
      if (role === 'judge') return { json: { ...VERDICT, accuracy: 7 }, usage: FAULT_USAGE };
      if (role === 'classifier')
        return { json: { category: 'astrology', confidence: 0.9 }, usage: FAULT_USAGE };
      return { json: { ...REVIEW, score: 1.5 }, usage: FAULT_USAGE };
    case 'missing usage':
      return { ...healthyReply(role, call), usage: null };
  }
}

const sum = (...usages: FakeUsage[]): FakeUsage => ({
  promptTokens: usages.reduce((total, usage) => total + usage.promptTokens, 0),
  completionTokens: usages.reduce((total, usage) => total + usage.completionTokens, 0),
});
const times = (count: number, usage: FakeUsage) => sum(...Array.from({ length: count }, () => usage));

/** The stored usage figures of `usage` on `model`, or all null when unknown. */
function storedUsage(model: string, usage: FakeUsage | null) {
  if (usage === null) return { prompt_tokens: null, completion_tokens: null, estimated_cost: null };
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    estimated_cost: estimateCost(model, usage.promptTokens, usage.completionTokens),
  };
}

describe('the LLM fault matrix (embedded PostgreSQL)', () => {
  let fake: FakeLlmServer;
  let app: TestApp;
  let faulted: ReadonlySet<Role> = new Set();
  let fault: FaultName = '401';
  let calls: Record<Role, number>;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    fake.setFallback((request) => {
      const role = roleOf(request);
      const call = calls[role];
      calls[role] += 1;
      // The agent's plan step always answers: its faults hit the answer step, after tokens were spent.
      if (!faulted.has(role) || (role === 'agent' && call === 0)) return healthyReply(role, call);
      return faultyReply(fault, role, role === 'agent' ? call - 1 : call);
    });
    app = await createTestApp('embedded', {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: EVALUATOR_MODEL,
      MERIT_AGENT_MODELS: `bob=${AGENT_MODEL}`,
      MERIT_LLM_TIMEOUT_MS: String(TIMEOUT_MS),
      // One retry inside the provider, with short backoff; the wait budget still allows a 1 s Retry-After.
      MERIT_LLM_MAX_RETRIES: '1',
      MERIT_LLM_RETRY_BASE_MS: '5',
      MERIT_LLM_RETRY_MAX_WAIT_MS: '3000',
      MERIT_EVALUATION_RATE_PER_MINUTE: '1000',
      MERIT_RATE_COMMANDS_PER_MINUTE: '1000',
      // Efficiency is left out of the overall score, so it is a mean of the quality signals alone.
      MERIT_OVERALL_WEIGHTS: 'efficiency=0',
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    // Another cell's leftover jobs must not run (nor call the LLM) in this one.
    await deleteQueuedJobs(app);
    fake.reset();
    resetCalls();
  });

  function resetCalls() {
    calls = { agent: 0, judge: 0, kai: 0, maya: 0, classifier: 0 };
  }
  function inject(name: FaultName, roles: Role[]) {
    fault = name;
    faulted = new Set(roles);
  }
  const requestsOf = (role: Role) => fake.requests.filter((request) => roleOf(request) === role);

  function expectRetryAfterWaited(role: Role) {
    // The agent's first call (its plan) is not faulted: the 429 meets its second.
    const [refused, retried] = requestsOf(role).slice(role === 'agent' ? 1 : 0);
    expect(retried, `${role} was not asked again after its 429`).toBeDefined();
    // Measured where the requests arrive: the provider asked for 1 s.
    expect((retried?.receivedAt ?? 0) - (refused?.receivedAt ?? 0)).toBeGreaterThanOrEqual(990);
  }

  const taskRow = (taskId: string) =>
    app.ctx.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
  const scoreRow = (taskId: string) =>
    app.ctx.db
      .selectFrom('agent_performance_scores')
      .selectAll()
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();

  describe('an agent run (a Mission Control command through its run_agent_task job)', () => {
    type AgentCell = {
      status: 'completed' | 'failed';
      error: RegExp | null;
      /** The task's tokens: summed over the steps when every call's usage is known, else null. */
      usage: FakeUsage | null;
    };
    const cells: [FaultName, string, AgentCell][] = [
      [
        '401',
        "fails the task with the reason and keeps the plan step's tokens and cost (an error status is not billed)",
        { status: 'failed', error: /The 'respond' step failed: .*HTTP 401/, usage: PLAN_USAGE },
      ],
      [
        '429',
        "completes after waiting the Retry-After, with both steps' tokens summed (by design: the refused call was not billed)",
        { status: 'completed', error: null, usage: sum(PLAN_USAGE, ANSWER_USAGE) },
      ],
      [
        '500',
        "fails the task after the provider's retry and keeps the plan step's tokens (an error status is not billed)",
        {
          status: 'failed',
          error: /The 'respond' step failed: .*HTTP 500.*gave up after 2 attempts/,
          usage: PLAN_USAGE,
        },
      ],
      [
        'missing usage',
        "completes with the task's tokens and cost unknown (null), not the plan step's alone",
        { status: 'completed', error: null, usage: null },
      ],
      [
        'hang',
        "fails the task with its usage unknown: the call cut off may have been billed, so not the plan step's alone",
        { status: 'failed', error: /The 'respond' step failed: .*timed out/, usage: null },
      ],
      [
        'bad JSON',
        'fails the task with its usage unknown: an unreadable answer may have been billed',
        { status: 'failed', error: /The 'respond' step failed/, usage: null },
      ],
      [
        'schema violation',
        'fails the task with its usage unknown: an answer of the wrong shape may have been billed',
        { status: 'failed', error: /The 'respond' step failed/, usage: null },
      ],
    ];

    it.each(cells)('agent x %s: %s', async (name, _, expected) => {
      inject(name, ['agent']);
      const created = await app.call('POST', '/api/commands', {
        command: '@bob research quantum error correction',
      });
      expect(created.status).toBe(202);
      await runOnce({ pgPool: app.database.pool, logger: silentWorkerLogger() }, createAgentJobs(app.ctx));

      const task = await taskRow(created.body.id);
      const usage = storedUsage(AGENT_MODEL, expected.usage);
      expect(task).toMatchObject({
        status: expected.status,
        model: AGENT_MODEL,
        failure_reason: expected.status === 'failed' ? 'error' : null,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: expected.usage && expected.usage.promptTokens + expected.usage.completionTokens,
      });
      if (usage.estimated_cost === null) expect(task.estimated_cost).toBeNull();
      else expect(task.estimated_cost).toBeCloseTo(usage.estimated_cost, 9);
      if (expected.error) expect(task.error).toMatch(expected.error);
      else expect(task.error).toBeNull();
      if (name === '429') expectRetryAfterWaited('agent');

      // No evaluator has run: no quality signal, so no overall score ("not evaluated" yet).
      const score = await scoreRow(task.id);
      expect(score.overall_score).toBeNull();
      if (expected.status === 'failed' || expected.usage === null) expect(score.efficiency_score).toBeNull();
    });
  });

  type EvaluatorCell = {
    status: 'done' | 'failed';
    /** The job attempts stored: 1 when settled at once, 6 (the job's last) for a transient failure. */
    attempts: number;
    reason: RegExp | null;
    /** What the evaluator's calls cost, summed over its attempts; null when any may have gone unreported. */
    usage: FakeUsage | null;
  };

  /** What a faulted evaluator's row finally holds; `answered` is its healthy usage. */
  function evaluatorCell(name: FaultName, answered: FakeUsage): EvaluatorCell {
    switch (name) {
      case '401':
        return { status: 'failed', attempts: 1, reason: /HTTP 401/, usage: null };
      case '429':
        return { status: 'done', attempts: 1, reason: null, usage: answered };
      case '500':
        return { status: 'failed', attempts: 6, reason: /HTTP 500.*gave up after 2 attempts/, usage: null };
      case 'hang':
        return {
          status: 'failed',
          attempts: 6,
          reason: new RegExp(`timed out after ${TIMEOUT_MS} ms`),
          usage: null,
        };
      case 'bad JSON':
      case 'schema violation':
        // Three paid answers (the first and two corrections), none usable: a permanent failure.
        return {
          status: 'failed',
          attempts: 1,
          reason: /no valid JSON answer in 3 attempts/,
          usage: times(3, FAULT_USAGE),
        };
      case 'missing usage':
        return { status: 'done', attempts: 1, reason: null, usage: null };
    }
  }

  const EVALUATOR_CELLS: [FaultName, string][] = [
    ['401', 'fails at once (not retried), usage null: nothing was billed'],
    ['429', 'is stored as done after waiting the Retry-After (by design: the 429 was not billed)'],
    ['500', 'fails after the last of its 6 job attempts, usage null: nothing was billed'],
    ['hang', 'fails after the last of its 6 job attempts, usage null: timed-out calls may have been billed'],
    ['bad JSON', 'fails at once with the three paid answers summed'],
    ['schema violation', 'fails at once with the three paid answers summed'],
    ['missing usage', 'is stored as done with its usage null (unknown), never 0'],
  ];

  // Runs the task's evaluation jobs to their end, skipping graphile-worker's backoff between retries.
  async function runEvaluationsToTheEnd(taskId: string): Promise<void> {
    for (let round = 0; round < 20; round += 1) {
      await makeJobsDue(app);
      await runDueJobs(app);
      const left = (await listJobs(app)).filter(
        (job) => job.key?.includes(taskId) && job.attempts < job.max_attempts,
      );
      if (left.length === 0) return;
    }
    throw new Error(`jobs of task ${taskId} still queued after 20 rounds`);
  }

  type EvaluatorRow = {
    status: string;
    attempts: number;
    failure_reason: string | null;
    prompt_tokens: number | null;
    completion_tokens: number | null;
    estimated_cost: number | string | null;
  };

  function expectEvaluatorRow(row: EvaluatorRow | undefined, expected: EvaluatorCell) {
    const usage = storedUsage(EVALUATOR_MODEL, expected.usage);
    expect(row).toMatchObject({
      status: expected.status,
      attempts: expected.attempts,
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
    });
    if (usage.estimated_cost === null) expect(row?.estimated_cost).toBeNull();
    else expect(Number(row?.estimated_cost)).toBeCloseTo(usage.estimated_cost, 9);
    if (expected.reason) expect(row?.failure_reason).toMatch(expected.reason);
    else expect(row?.failure_reason).toBeNull();
  }

  type EvaluatorComponent = { label: string; roles: ('judge' | 'kai' | 'maya')[] };
  const EVALUATOR_COMPONENTS: EvaluatorComponent[] = [
    { label: 'judge', roles: ['judge'] },
    { label: 'reviewer kai', roles: ['kai'] },
    { label: 'reviewer maya', roles: ['maya'] },
    { label: 'every evaluator at once', roles: ['judge', 'kai', 'maya'] },
  ];

  describe.each(EVALUATOR_COMPONENTS)('$label (evaluate_task and review_task jobs)', ({ label, roles }) => {
    it.each(EVALUATOR_CELLS)(`${label} x %s: %s`, async (name) => {
      inject(name, roles);
      const taskId = await completeTask(app, { agent_id: 'agent_a' });
      const agentTask = await taskRow(taskId);
      await runEvaluationsToTheEnd(taskId);

      const judgeExpected: EvaluatorCell = roles.includes('judge')
        ? evaluatorCell(name, JUDGE_USAGE)
        : { status: 'done', attempts: 1, reason: null, usage: JUDGE_USAGE };
      const evaluations = await app.ctx.db
        .selectFrom('task_evaluations')
        .selectAll()
        .where('task_id', '=', taskId)
        .execute();
      expect(evaluations).toHaveLength(1);
      expect(evaluations[0]?.kind).toBe('judge');
      expectEvaluatorRow(evaluations[0], judgeExpected);

      const reviews = await app.ctx.db
        .selectFrom('agent_peer_evaluations')
        .selectAll()
        .where('task_id', '=', taskId)
        .orderBy('reviewer_agent_id')
        .execute();
      expect(reviews.map((review) => review.reviewer_agent_id)).toEqual([KAI, MAYA]);
      const reviewExpected = {} as Record<'kai' | 'maya', EvaluatorCell>;
      for (const [index, nickname] of (['kai', 'maya'] as const).entries()) {
        const expected: EvaluatorCell = roles.includes(nickname)
          ? evaluatorCell(name, REVIEW_USAGE[nickname])
          : { status: 'done', attempts: 1, reason: null, usage: REVIEW_USAGE[nickname] };
        reviewExpected[nickname] = expected;
        const review = reviews[index];
        expectEvaluatorRow(review, expected);
        expect(review?.score).toBe(expected.status === 'done' ? REVIEWED : null);
      }
      if (name === '429') for (const role of roles) expectRetryAfterWaited(role);

      // The agent's own figures never take an evaluator's spend.
      expect(await taskRow(taskId)).toMatchObject({
        status: 'completed',
        prompt_tokens: agentTask.prompt_tokens,
        completion_tokens: agentTask.completion_tokens,
        estimated_cost: agentTask.estimated_cost,
      });

      const judged = judgeExpected.status === 'done';
      const peered = reviewExpected.kai.status === 'done' || reviewExpected.maya.status === 'done';
      const score = await scoreRow(taskId);
      expect(score).toMatchObject({
        accuracy_score: judged ? JUDGED : null,
        relevance_score: judged ? JUDGED : null,
        completeness_score: judged ? JUDGED : null,
        peer_score: peered ? REVIEWED : null,
      });
      // The overall score is a mean of the quality signals left; none left: not evaluated (null).
      if (judged && peered) {
        expect(score.overall_score).toBeGreaterThan(REVIEWED);
        expect(score.overall_score).toBeLessThan(JUDGED);
      } else {
        expect(score.overall_score).toBe(judged ? JUDGED : peered ? REVIEWED : null);
      }
    });
  });

  describe('the command classifier (POST /api/route/classify, and a command without a mention)', () => {
    const cells: [FaultName, string, { category: string; source: 'llm' | 'classifier' }][] = [
      [
        '401',
        'falls back to the offline classifier, never a 500',
        { category: 'writing', source: 'classifier' },
      ],
      [
        '429',
        "uses the LLM's answer after waiting the Retry-After, within the classification budget (by design)",
        { category: 'compliance', source: 'llm' },
      ],
      [
        '500',
        'falls back to the offline classifier, never a 500',
        { category: 'writing', source: 'classifier' },
      ],
      [
        'hang',
        'falls back to the offline classifier, never a 500',
        { category: 'writing', source: 'classifier' },
      ],
      [
        'bad JSON',
        'falls back to the offline classifier after asking again, never a 500',
        { category: 'writing', source: 'classifier' },
      ],
      [
        'schema violation',
        'falls back to the offline classifier after asking again, never a 500',
        { category: 'writing', source: 'classifier' },
      ],
      [
        'missing usage',
        "uses the LLM's answer (by design: a classification needs no usage, and none is stored)",
        { category: 'compliance', source: 'llm' },
      ],
    ];

    it.each(cells)('classifier x %s: %s', async (name, _, expected) => {
      inject(name, ['classifier']);
      const classified = await app.call('POST', '/api/route/classify', { command: UNMENTIONED_COMMAND });
      expect(classified.status).toBe(200);
      expect(classified.body).toMatchObject({ category: expected.category, source: expected.source });
      if (name === '429') expectRetryAfterWaited('classifier');

      // The command's classification meets the same fault afresh.
      resetCalls();
      fake.reset();
      const command = await app.call('POST', '/api/commands', { command: UNMENTIONED_COMMAND });
      expect(command.status).toBe(202);
      expect(requestsOf('classifier').length).toBeGreaterThan(0);
      const task = await taskRow(command.body.id);
      expect(task).toMatchObject({
        status: 'queued',
        objective_category: expected.category,
        category_source: expected.source,
      });
      const decision = await app.ctx.db
        .selectFrom('routing_decisions')
        .select(['category', 'category_source'])
        .where('task_id', '=', task.id)
        .executeTakeFirstOrThrow();
      expect(decision).toEqual({ category: expected.category, category_source: expected.source });
    });
  });
});
