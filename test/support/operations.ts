import { randomUUID } from 'node:crypto';

/**
 * One valid request for every operation of the OpenAPI document, for tests generated from the document
 * (NUL characters in every input, the authorization matrix). A new route fails those tests until it has
 * a baseline here.
 */

export interface Fixtures {
  /** A running task, for operations that change one. */
  runningTask: string;
  /** A completed task, for operations that read or rate one. */
  completedTask: string;
  category: string;
}

export interface Baseline {
  params: Record<string, string>;
  query: Record<string, string>;
  body?: unknown;
  /** A stream never ends: only its rejections are sent. */
  stream?: boolean;
}

export const finishedTask = () => ({
  id: randomUUID(),
  agent_id: 'agent_a',
  command: 'summarize the report',
  objective_category: 'research',
  status: 'completed',
  result: 'the summary',
  error: 'none',
  started_at: new Date(Date.now() - 60_000).toISOString(),
  completed_at: new Date(Date.now() - 1_000).toISOString(),
  user_rating: 4,
  user_feedback: 'good',
  model: 'gpt-4o',
  nodes: [{ node_name: 'draft', error: 'none', started_at: new Date(Date.now() - 30_000).toISOString() }],
});

/** An OTLP/JSON ExportTraceServiceRequest with one finished span (fresh ids each time). */
export const otlpTraceRequest = () => {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'baseline-service' } }] },
        scopeSpans: [
          {
            scope: { name: 'baseline', version: '1.0.0' },
            spans: [
              {
                traceId: randomUUID().replaceAll('-', ''),
                spanId: randomUUID().replaceAll('-', '').slice(0, 16),
                name: 'execute_tool lookup',
                kind: 1,
                startTimeUnixNano: String(now - 2_000_000_000n),
                endTimeUnixNano: String(now - 1_000_000_000n),
                attributes: [{ key: 'gen_ai.tool.name', value: { stringValue: 'lookup' } }],
                status: { code: 1 },
              },
            ],
          },
        ],
      },
    ],
  };
};

/** One valid request per operation; every string input it names is then replaced by a NUL one. */
export const BASELINES: Record<string, (f: Fixtures) => Baseline> = {
  'GET /api/health': () => ({ params: {}, query: {} }),
  'GET /api/events': () => ({ params: {}, query: {}, stream: true }),
  'GET /api/agents': () => ({ params: {}, query: {} }),
  'GET /api/agents/leaderboard': () => ({ params: {}, query: { category: 'research' } }),
  'GET /api/agents/{agent_id}/performance': () => ({ params: { agent_id: 'agent_a' }, query: {} }),
  'GET /api/agents/{agent_id}/nodes': () => ({ params: { agent_id: 'agent_a' }, query: {} }),
  'GET /api/agents/{agent_id}/trend': () => ({ params: { agent_id: 'agent_a' }, query: { bucket: 'day' } }),
  'GET /api/agents/{agent_id}/capabilities': () => ({ params: { agent_id: 'agent_a' }, query: {} }),
  // agent_a is one of Merit's own agents: the request is valid and refused with 409 (only external agents
  // are edited; test/http/external-agents.test.ts edits one).
  'PATCH /api/agents/{agent_id}': () => ({
    params: { agent_id: 'agent_a' },
    query: {},
    body: { display_name: 'Agent A', role: 'Researcher', specializations: ['research'], active: true },
  }),
  'POST /api/tasks': () => ({
    params: {},
    query: {},
    body: {
      id: randomUUID(),
      agent_id: 'agent_a',
      command: 'plan the launch',
      objective_category: 'planning',
      model: 'gpt-4o',
      status: 'running',
    },
  }),
  'GET /api/tasks': () => ({ params: {}, query: {} }),
  'POST /api/tasks/completed': () => ({ params: {}, query: {}, body: finishedTask() }),
  'POST /api/tasks/batch': () => ({ params: {}, query: {}, body: { tasks: [finishedTask()] } }),
  'GET /api/tasks/{task_id}': (f) => ({ params: { task_id: f.completedTask }, query: {} }),
  'POST /api/tasks/{task_id}/start': (f) => ({ params: { task_id: f.runningTask }, query: {} }),
  'POST /api/tasks/{task_id}/nodes': (f) => ({
    params: { task_id: f.runningTask },
    query: {},
    body: { node_name: 'research', error: 'none', started_at: new Date(Date.now() - 5_000).toISOString() },
  }),
  'POST /api/tasks/{task_id}/complete': (f) => ({
    params: { task_id: f.runningTask },
    query: {},
    body: {
      result: 'done',
      model: 'gpt-4o',
      nodes: [
        { node_name: 'respond', error: 'none', started_at: new Date(Date.now() - 5_000).toISOString() },
      ],
    },
  }),
  'POST /api/tasks/{task_id}/fail': (f) => ({
    params: { task_id: f.runningTask },
    query: {},
    body: {
      error: 'it broke',
      nodes: [
        { node_name: 'respond', error: 'timeout', started_at: new Date(Date.now() - 5_000).toISOString() },
      ],
    },
  }),
  'POST /api/tasks/{task_id}/feedback': (f) => ({
    params: { task_id: f.completedTask },
    query: {},
    body: { user_rating: 5, user_feedback: 'great' },
  }),
  'GET /api/tasks/{task_id}/evaluation': (f) => ({ params: { task_id: f.completedTask }, query: {} }),
  'GET /api/tasks/{task_id}/routing-decision': (f) => ({ params: { task_id: f.completedTask }, query: {} }),
  'GET /api/reviewers': () => ({ params: {}, query: {} }),
  'GET /api/categories': () => ({ params: {}, query: {} }),
  'POST /api/categories': () => ({
    params: {},
    query: {},
    body: {
      category: `legal_${randomUUID().slice(0, 8)}`,
      display_name: 'Legal',
      description: 'Legal research',
      evaluation_criteria: ['cites sources'],
      keywords: ['contract'],
      example_commands: ['review this contract'],
      recommended_agents: ['agent_a'],
    },
  }),
  'PATCH /api/categories/{category}': (f) => ({
    params: { category: f.category },
    query: {},
    body: {
      display_name: 'Contracts',
      description: 'Contract review',
      evaluation_criteria: ['finds risks'],
      keywords: ['clause'],
      example_commands: ['check this clause'],
      recommended_agents: ['agent_a'],
    },
  }),
  'GET /api/categories/{category}/best-agents': (f) => ({ params: { category: f.category }, query: {} }),
  'POST /api/commands': () => ({ params: {}, query: {}, body: { command: 'research quantum computing' } }),
  'POST /api/route/classify': () => ({
    params: {},
    query: {},
    body: { command: 'research quantum computing' },
  }),
  'POST /api/route/recommend': () => ({
    params: {},
    query: {},
    body: { command: 'research quantum computing', category: 'research' },
  }),
  'GET /api/routing/decisions': () => ({ params: {}, query: {} }),
  'GET /api/routing/quality': () => ({ params: {}, query: {} }),
  'GET /api/routing/objective': () => ({ params: {}, query: {} }),
  'PATCH /api/routing/objective': () => ({
    params: {},
    query: {},
    body: { objective: 'quality', usd_per_quality: 1 },
  }),
  'GET /api/evaluators/calibration': () => ({ params: {}, query: {} }),
  'GET /api/auth/session': () => ({ params: {}, query: {} }),
  // Local mode has no accounts: the baseline login is refused (401), its NUL variants 400.
  'POST /api/auth/login': () => ({
    params: {},
    query: {},
    body: { email: 'someone@example.com', password: 'a password' },
  }),
  'POST /api/auth/logout': () => ({ params: {}, query: {} }),
  'GET /api/keys': () => ({ params: {}, query: {} }),
  'POST /api/keys': () => ({
    params: {},
    query: {},
    body: { name: 'nul test', scopes: ['read'], allowed_origins: ['https://app.example.com'] },
  }),
  'DELETE /api/keys/{key_id}': () => ({ params: { key_id: randomUUID() }, query: {} }),
  'GET /api/members': () => ({ params: {}, query: {} }),
  'PUT /api/members/{account_id}': () => ({
    params: { account_id: randomUUID() },
    query: {},
    body: { role: 'member' },
  }),
  'GET /api/audit': () => ({ params: {}, query: {} }),
  'GET /api/project': () => ({ params: {}, query: {} }),
  'POST /v1/traces': () => ({ params: {}, query: {}, body: otlpTraceRequest() }),
  'POST /api/otel/v1/traces': () => ({ params: {}, query: {}, body: otlpTraceRequest() }),
  'GET /api/status': () => ({ params: {}, query: {} }),
  'GET /api/export/leaderboard': () => ({
    params: {},
    query: { format: 'csv', category: 'research', since: '2026-01-01' },
  }),
  'GET /api/export/tasks': () => ({
    params: {},
    query: { format: 'json', agent_id: 'agent_a', category: 'research', status: 'completed' },
  }),
  'GET /api/export/routing-decisions': () => ({
    params: {},
    query: { format: 'csv', agent_id: 'agent_a', until: '2030-01-01T00:00:00Z' },
  }),
  'GET /api/prices': () => ({ params: {}, query: {} }),
  'PATCH /api/project': () => ({
    params: {},
    query: {},
    body: { name: 'Default project', rate_limits: { commands_per_minute: 1000 } },
  }),
  'POST /api/arena/battles': () => ({
    params: {},
    query: {},
    body: {
      battles: [
        {
          model_a: 'agent_a',
          model_b: 'gpt-4o',
          winner: 'model_a',
          category: 'research',
          judge: 'ci',
          key: randomUUID(),
        },
      ],
    },
  }),
  'GET /api/arena/leaderboard': () => ({ params: {}, query: { category: 'research' } }),
  'POST /api/arena/compare': () => ({
    params: {},
    query: {},
    body: { command: 'research quantum computing', agents: ['agent_a', 'agent_b'] },
  }),
  'GET /api/arena/compare/{comparison_id}': () => ({ params: { comparison_id: randomUUID() }, query: {} }),
  'POST /api/arena/compare/{comparison_id}/vote': () => ({
    params: { comparison_id: randomUUID() },
    query: {},
    body: { winner: 'A' },
  }),
};

/** Baselines answered with an error that is not the NUL's: a valid request about nothing that exists. */
export const BASELINE_STATUS: Record<string, number> = {
  'GET /api/tasks/{task_id}/routing-decision': 404,
  'POST /api/auth/login': 401,
  'DELETE /api/keys/{key_id}': 404,
  'PUT /api/members/{account_id}': 404,
  'GET /api/arena/compare/{comparison_id}': 404,
  'POST /api/arena/compare/{comparison_id}/vote': 404,
  'PATCH /api/agents/{agent_id}': 409,
};
