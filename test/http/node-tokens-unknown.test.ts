import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveTaskId } from '../../src/otel/span-mapping.js';
import { findNodeDailyDrift } from '../../src/stats/node-stats.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp, USER } from '../support/app.js';

/**
 * A step (node) that reported no token counts has total_tokens null (unknown), never 0; a step that
 * reported 0 keeps 0; one that reported prompt and completion only has their sum. Through every writer
 * of nodes (a running task's node, a completion's nodes, a finished task, OTLP spans), read back from
 * GET /api/tasks/{task_id}, and in the agent's node breakdown, which averages over reporting runs only.
 */

type Node = { node_name: string; prompt_tokens: number | null; total_tokens: number | null };
const totals = (nodes: Node[]) => nodes.map((node) => [node.node_name, node.total_tokens]);

/** No tokens; a tool call that used none; prompt and completion only. */
const NODES = [
  { node_name: 'think', duration_ms: 400 },
  { node_name: 'lookup', duration_ms: 30, total_tokens: 0 },
  { node_name: 'answer', duration_ms: 900, prompt_tokens: 1000, completion_tokens: 200 },
];
const EXPECTED = [
  ['think', null],
  ['lookup', 0],
  ['answer', 1200],
];

describe('node tokens nobody reported stay unknown', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function readTask(id: string) {
    const { status, body } = await app.call('GET', `/api/tasks/${id}`);
    expect(status).toBe(200);
    return body as { total_tokens: number | null; nodes: Node[] };
  }

  it('stores a finished task’s nodes as null, 0 and the sum of their parts', async () => {
    const { status, body } = await app.call('POST', '/api/tasks/completed', {
      agent_id: 'agent_a',
      command: 'look the answer up',
      result: 'found it',
      nodes: NODES,
    });
    expect(status).toBe(201);
    const task = await readTask(body.task_ids[0]);
    expect(totals(task.nodes)).toEqual(EXPECTED);
    // The task's total is unknown: one successful step reported nothing.
    expect(task.total_tokens).toBeNull();
  });

  it("stores a running task's nodes and its completion's nodes the same way", async () => {
    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'look the other answer up',
      status: 'running',
    });
    const id = created.body.id as string;
    const recorded = await app.call('POST', `/api/tasks/${id}/nodes`, NODES[0]);
    expect(recorded.status).toBe(201);
    expect(recorded.body.total_tokens).toBeNull();
    const done = await app.call('POST', `/api/tasks/${id}/complete`, {
      result: 'found it too',
      nodes: NODES.slice(1),
    });
    expect(done.status).toBe(200);
    expect(totals((await readTask(id)).nodes)).toEqual(EXPECTED);
  });

  it('counts a recorded tool step that used 0 tokens in its task, not as unknown', async () => {
    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'check the cache',
      status: 'running',
    });
    const id = created.body.id as string;
    await app.call('POST', `/api/tasks/${id}/nodes`, { node_name: 'cache_hit', total_tokens: 0 });
    await app.call('POST', `/api/tasks/${id}/complete`, { result: 'cached' });
    expect(await readTask(id)).toMatchObject({ total_tokens: 0, nodes: [{ total_tokens: 0 }] });
  });

  it('averages a node’s tokens over the runs that reported them', async () => {
    const { body } = await app.call('GET', '/api/agents/agent_a/nodes');
    const byName = new Map(body.nodes.map((node: { node_name: string }) => [node.node_name, node]));
    // Two runs of 'think' reported nothing: no average, no total (not 0).
    expect(byName.get('think')).toMatchObject({ runs: 2, avg_tokens: null, total_tokens: null });
    // 'lookup' reported 0 twice: a known 0.
    expect(byName.get('lookup')).toMatchObject({ runs: 2, avg_tokens: 0, total_tokens: 0 });
    expect(byName.get('answer')).toMatchObject({ runs: 2, avg_tokens: 1200, total_tokens: 2400 });
  });

  it('gives an OTLP span without usage a node with null tokens', async () => {
    const traceId = randomBytes(16).toString('hex');
    const [agentSpan, chatSpan, toolSpan, meteredSpan] = [1, 2, 3, 4].map(() =>
      randomBytes(8).toString('hex'),
    );
    const t0 = BigInt(Date.now() - 10_000) * 1_000_000n;
    const ms = 1_000_000n;
    const text = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const int = (key: string, value: number) => ({ key, value: { intValue: String(value) } });
    const span = (
      spanId: string,
      parent: string | undefined,
      name: string,
      from: number,
      to: number,
      attributes: unknown[],
    ) => ({
      traceId,
      spanId,
      ...(parent === undefined ? {} : { parentSpanId: parent }),
      name,
      kind: 1,
      startTimeUnixNano: String(t0 + BigInt(from) * ms),
      endTimeUnixNano: String(t0 + BigInt(to) * ms),
      attributes,
      status: { code: 1 },
    });
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [text('service.name', 'node-tokens-test')] },
          scopeSpans: [
            {
              scope: { name: 'node-tokens-test' },
              spans: [
                span(agentSpan as string, undefined, 'invoke_agent Lookup Agent', 0, 1000, [
                  text('gen_ai.operation.name', 'invoke_agent'),
                  text('gen_ai.agent.name', 'Lookup Agent'),
                ]),
                span(chatSpan as string, agentSpan, 'chat gpt-4o', 10, 300, [
                  text('gen_ai.operation.name', 'chat'),
                  text('gen_ai.request.model', 'gpt-4o'),
                ]),
                span(toolSpan as string, agentSpan, 'execute_tool search', 310, 400, [
                  text('gen_ai.operation.name', 'execute_tool'),
                  text('gen_ai.tool.name', 'search'),
                ]),
                span(meteredSpan as string, agentSpan, 'chat gpt-4o', 410, 900, [
                  text('gen_ai.operation.name', 'chat'),
                  text('gen_ai.request.model', 'gpt-4o'),
                  int('gen_ai.usage.input_tokens', 100),
                  int('gen_ai.usage.output_tokens', 20),
                ]),
              ],
            },
          ],
        },
      ],
    };
    const response = await app.app.request(`/v1/traces?user_id=${USER}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect([response.status, await response.json()]).toEqual([200, {}]);

    const task = await readTask(deriveTaskId(DEFAULT_PROJECT_ID, traceId, agentSpan as string));
    expect(task.nodes.map((node) => [node.node_name, node.prompt_tokens, node.total_tokens])).toEqual([
      ['chat gpt-4o', null, null],
      ['execute_tool search', null, null],
      ['chat gpt-4o', 100, 120],
    ]);
    // A model call without usage leaves the task's tokens unknown, as before.
    expect(task.total_tokens).toBeNull();
  });

  it('keeps the per-node daily rollup equal to a recompute from the nodes', async () => {
    expect(await findNodeDailyDrift(app.ctx.db)).toEqual([]);
  });
});
