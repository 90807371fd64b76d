import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureExternalAgents } from '../../src/agents/external-agents.js';
import type { KeyScope } from '../../src/db/database.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey } from '../../src/identity/identity.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';

/** `count` rated research tasks of one agent at one cost per task. */
function researchTasks(agentId: string, count: number, rating: number, cost: number) {
  return Array.from({ length: count }, (_, i) => ({
    agent_id: agentId,
    command: `research topic ${i}`,
    objective_category: 'research',
    status: 'completed',
    result: 'done',
    duration_ms: 20_000,
    user_rating: rating,
    estimated_cost: cost,
  }));
}

interface Row {
  agent_id: string;
  nickname: string;
  chosen: boolean;
  expected_score: number;
  expected_cost: number | null;
  charged_cost: number | null;
  target_probability: number | null;
}

describe('routing objectives over HTTP (local mode)', () => {
  let app: TestApp;
  let external: string;

  beforeAll(async () => {
    app = await createTestApp('embedded');
    // agent_a: excellent and dear; agent_b: good and a tenth of the price; the rest have no record.
    const recorded = await app.call('POST', '/api/tasks/batch', {
      tasks: [...researchTasks('agent_a', 30, 5, 0.02), ...researchTasks('agent_b', 30, 4, 0.002)],
    });
    expect(recorded.status).toBe(201);
    const ids = await ensureExternalAgents(app.ctx.db, DEFAULT_PROJECT_ID, ['Weather Agent']);
    external = ids.get('Weather Agent') as string;
    const measured = await app.call('POST', '/api/tasks/batch', {
      tasks: researchTasks(external, 30, 5, 0.0001),
    });
    expect(measured.status).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('routes on quality while the project has set no objective', async () => {
    const { status, body } = await app.call('GET', '/api/routing/objective');
    expect(status).toBe(200);
    expect(body).toEqual({
      kind: 'quality',
      usd_per_quality: null,
      target_quality: null,
      min_probability: 0.8,
      updated_at: null,
    });
    const decision = await app.call('POST', '/api/route/recommend', {
      command: 'research tides',
      category: 'research',
      seed: 1,
    });
    expect(decision.status).toBe(200);
    expect(decision.body.objective).toEqual({
      kind: 'quality',
      usd_per_quality: null,
      target_quality: null,
      min_probability: null,
    });
  });

  it('refuses an objective without its knob, or a bad knob, naming the field', async () => {
    const missing = await app.call('POST', '/api/route/recommend', {
      command: 'research tides',
      category: 'research',
      objective: { kind: 'value' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({
      code: 'validation_failed',
      field: 'objective.usd_per_quality',
    });
    const negative = await app.call('POST', '/api/route/recommend', {
      command: 'research tides',
      objective: { kind: 'value', usd_per_quality: -1 },
    });
    expect(negative.status).toBe(400);
    expect(JSON.stringify(negative.body.error)).toContain('usd_per_quality');
    const patch = await app.call('PATCH', '/api/routing/objective', { objective: 'cheapest_meeting' });
    expect(patch.status).toBe(400);
    expect(patch.body.error).toMatchObject({ code: 'validation_failed', field: 'target_quality' });
    const unchanged = await app.call('GET', '/api/routing/objective');
    expect(unchanged.body.kind).toBe('quality');
    expect(unchanged.body.updated_at).toBeNull();
  });

  it("uses the project's default objective, and states the trade-off it made", async () => {
    const patch = await app.call('PATCH', '/api/routing/objective', {
      objective: 'value',
      usd_per_quality: 0.5,
    });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ kind: 'value', usd_per_quality: 0.5, min_probability: 0.8 });
    expect(typeof patch.body.updated_at).toBe('string');
    const { status, body } = await app.call('POST', '/api/route/recommend', {
      command: 'research tides',
      category: 'research',
      seed: 3,
    });
    expect(status).toBe(200);
    expect(body.reason).toBe('thompson');
    expect(body.objective).toEqual({
      kind: 'value',
      usd_per_quality: 0.5,
      target_quality: null,
      min_probability: null,
    });
    const rows = body.candidates as Row[];
    const chosen = rows.find((row) => row.chosen) as Row;
    expect(body.explanation).toMatch(
      new RegExp(
        `^Objective value at \\$0\\.5 per quality point: chose ${chosen.nickname}, expected ` +
          `${chosen.expected_score.toFixed(2)} on research at `,
      ),
    );
    // Agents with no record are charged the cheapest known cost (tried, never free).
    for (const row of rows) expect(row.charged_cost).toBe(row.expected_cost ?? 0.002);
    // Generated once and stored with the decision.
    const stored = await app.call('GET', '/api/routing/decisions');
    const same = stored.body.decisions.find(
      (entry: { decision_id: string }) => entry.decision_id === body.decision_id,
    );
    expect(same.explanation).toBe(body.explanation);
    expect(same.objective).toEqual(body.objective);
  });

  it("lets a request override the project's objective", async () => {
    const { status, body } = await app.call('POST', '/api/route/recommend', {
      command: 'research tides',
      category: 'research',
      objective: { kind: 'cheapest_meeting', target_quality: 0.6 },
      seed: 4,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ agent_id: 'agent_b', reason: 'cheapest_meeting' });
    expect(body.objective).toEqual({
      kind: 'cheapest_meeting',
      usd_per_quality: null,
      target_quality: 0.6,
      min_probability: 0.8,
    });
    const rows = body.candidates as Row[];
    const chosen = rows.find((row) => row.chosen) as Row;
    const bob = rows.find((row) => row.agent_id === 'agent_a') as Row;
    expect(body.explanation).toBe(
      `Objective cheapest meeting 0.60 (probability ≥ 0.80): chose ${chosen.nickname}, the cheapest agent likely ` +
        `to reach 0.60 on research (probability ${(chosen.target_probability ?? 0).toFixed(2)}), expected ` +
        `${chosen.expected_score.toFixed(2)} at $0.002 per task; ${bob.nickname} would give ` +
        `+${(Number(bob.expected_score.toFixed(2)) - Number(chosen.expected_score.toFixed(2))).toFixed(2)} for 10x the cost ($0.02 per task).`,
    );
    const quality = await app.call('POST', '/api/route/recommend', {
      command: 'research tides',
      category: 'research',
      objective: { kind: 'quality' },
      seed: 4,
    });
    expect(quality.body.objective.kind).toBe('quality');
    // The project's default is untouched by requests.
    expect((await app.call('GET', '/api/routing/objective')).body.kind).toBe('value');
  });

  it('sends a command under an objective', async () => {
    const { status, body } = await app.call('POST', '/api/commands', {
      command: 'research the tides of the north sea',
      objective: { kind: 'cheapest_meeting', target_quality: 0.6 },
    });
    expect(status).toBe(202);
    const decision = await app.call('GET', `/api/tasks/${body.id}/routing-decision`);
    expect(decision.body.objective).toMatchObject({ kind: 'cheapest_meeting', target_quality: 0.6 });
  });

  it('never routes to an external agent, however good and cheap its record', async () => {
    for (const [seed, objective] of [
      [1, { kind: 'quality' }],
      [2, { kind: 'value', usd_per_quality: 0.01 }],
      [3, { kind: 'cheapest_meeting', target_quality: 0.5 }],
    ] as const) {
      const { status, body } = await app.call('POST', '/api/route/recommend', {
        command: 'research tides',
        category: 'research',
        objective,
        seed,
      });
      expect(status).toBe(200);
      expect(body.agent_id).not.toBe(external);
      expect((body.candidates as Row[]).map((row) => row.agent_id)).not.toContain(external);
    }
    const best = await app.call('GET', '/api/categories/research/best-agents');
    expect(best.body.agents.map((row: Row) => row.agent_id)).not.toContain(external);
  });

  it('refuses a command or a recommendation that mentions an external agent: 409 agent_external', async () => {
    const before = await app.call('GET', '/api/tasks?limit=100');
    const command = await app.call('POST', '/api/commands', { command: `@${external} forecast the weather` });
    expect(command.status).toBe(409);
    expect(command.body.error).toMatchObject({ code: 'agent_external', field: 'command' });
    expect(command.body.error.message).toContain(`@${external} is an external agent`);
    const recommend = await app.call('POST', '/api/route/recommend', { command: `@${external} forecast` });
    expect(recommend.status).toBe(409);
    expect(recommend.body.error.code).toBe('agent_external');
    const after = await app.call('GET', '/api/tasks?limit=100');
    expect(after.body.tasks.length).toBe(before.body.tasks.length);
  });
});

describe('the project objective is changed by admins only (required mode)', () => {
  let app: TestApp;

  async function createKey(scopes: KeyScope[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
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

  async function call(key: string, method: string, body?: unknown) {
    const response = await app.app.request('/api/routing/objective', {
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
    app = await createTestApp('embedded', { MERIT_AUTH: 'required' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lets a read key see it, refuses its change, and lets an admin key change it (audited)', async () => {
    const reader = await createKey(['read', 'ingest']);
    const admin = await createKey(['admin']);
    expect((await call(reader, 'GET')).status).toBe(200);
    const refused = await call(reader, 'PATCH', { objective: 'value', usd_per_quality: 2 });
    expect(refused.status).toBe(403);
    expect((await call(reader, 'GET')).body.kind).toBe('quality');
    const changed = await call(admin, 'PATCH', {
      objective: 'cheapest_meeting',
      target_quality: 0.7,
      min_probability: 0.9,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      kind: 'cheapest_meeting',
      target_quality: 0.7,
      min_probability: 0.9,
    });
    const audit = await app.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('project_id', '=', DEFAULT_PROJECT_ID)
      .where('target', '=', 'routing objective')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.details).toMatchObject({ after: { kind: 'cheapest_meeting', target_quality: 0.7 } });
    // A knob set to null goes back to the default.
    const reset = await call(admin, 'PATCH', { min_probability: null });
    expect(reset.body).toMatchObject({ kind: 'cheapest_meeting', min_probability: 0.8 });
  });
});
