import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * A node's model call through the REST API: model, provider, cache-read and reasoning tokens and cost,
 * on every endpoint that takes nodes, read back from GET /api/tasks/{task_id}. The cost is the price
 * table's when not given, and unknown (null) when the model, its price or its tokens are.
 */

type Node = Record<string, unknown>;
const call = (node: Node) => [
  node.node_name,
  node.model,
  node.provider,
  node.cache_read_tokens,
  node.reasoning_tokens,
  node.estimated_cost,
];

/** gpt-4o-mini: 800 x 0.15 + 200 cached x 0.075 + 100 x 0.6 per million. */
const PRICED = {
  node_name: 'draft',
  model: 'gpt-4o-mini',
  provider: 'openai',
  prompt_tokens: 1000,
  completion_tokens: 100,
  cache_read_tokens: 200,
  reasoning_tokens: 40,
};
const PRICED_ROW = ['draft', 'gpt-4o-mini', 'openai', 200, 40, 0.000195];

describe('node model calls through the REST API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function readNodes(id: string): Promise<Node[]> {
    const { status, body } = await app.call('GET', `/api/tasks/${id}`);
    expect(status).toBe(200);
    return body.nodes;
  }

  it('records them on a node of a running task, and on the nodes of its completion', async () => {
    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'draft the answer',
      status: 'running',
    });
    const id = created.body.id as string;
    const node = await app.call('POST', `/api/tasks/${id}/nodes`, PRICED);
    expect(node.status).toBe(201);
    expect(call(node.body)).toEqual(PRICED_ROW);

    const done = await app.call('POST', `/api/tasks/${id}/complete`, {
      result: 'done',
      nodes: [
        // A cost the caller gives is kept.
        {
          node_name: 'review',
          model: 'gpt-4o',
          prompt_tokens: 10,
          completion_tokens: 5,
          estimated_cost: 0.5,
        },
        // No price for the model, or no model: unknown, not 0.
        {
          node_name: 'house',
          model: 'house-model-unlisted',
          provider: 'vllm',
          prompt_tokens: 10,
          completion_tokens: 5,
        },
        { node_name: 'tool', prompt_tokens: 10, completion_tokens: 5 },
        // The model is known but not both token counts: unknown.
        { node_name: 'half', model: 'gpt-4o', prompt_tokens: 10 },
      ],
    });
    expect(done.status).toBe(200);
    expect((await readNodes(id)).map(call)).toEqual([
      PRICED_ROW,
      ['review', 'gpt-4o', null, null, null, 0.5],
      ['house', 'house-model-unlisted', 'vllm', null, null, null],
      ['tool', null, null, null, null, null],
      ['half', 'gpt-4o', null, null, null, null],
    ]);
  });

  it('records them for the finished-task and batch endpoints, and for a failed task', async () => {
    const single = await app.call('POST', '/api/tasks/completed', {
      agent_id: 'agent_b',
      command: 'one finished task',
      result: 'ok',
      nodes: [PRICED],
    });
    expect(single.status).toBe(201);
    const batch = await app.call('POST', '/api/tasks/batch', {
      tasks: [
        { agent_id: 'agent_b', command: 'batched', result: 'ok', nodes: [PRICED, { node_name: 'tool' }] },
      ],
    });
    expect(batch.status).toBe(201);
    const singleId: string = single.body.task_ids[0];
    const batchId: string = batch.body.task_ids[0];
    expect((await readNodes(singleId)).map(call)).toEqual([PRICED_ROW]);
    expect((await readNodes(batchId)).map(call)).toEqual([
      PRICED_ROW,
      ['tool', null, null, null, null, null],
    ]);

    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_c',
      command: 'fails',
      status: 'running',
    });
    const failed = await app.call('POST', `/api/tasks/${created.body.id}/fail`, {
      error: 'timeout',
      nodes: [{ ...PRICED, success: false, error: 'timeout' }],
    });
    expect(failed.status).toBe(200);
    expect((await readNodes(created.body.id)).map(call)).toEqual([PRICED_ROW]);
  });

  it('refuses a negative cache-read count, an empty provider and a cost over the cap, naming the field', async () => {
    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'bad nodes',
      status: 'running',
    });
    const cases: [Node, string][] = [
      [{ node_name: 'x', cache_read_tokens: -1 }, 'cache_read_tokens'],
      [{ node_name: 'x', reasoning_tokens: 1.5 }, 'reasoning_tokens'],
      [{ node_name: 'x', provider: '' }, 'provider'],
      [{ node_name: 'x', model: 'm'.repeat(201) }, 'model'],
      [{ node_name: 'x', estimated_cost: 10_001 }, 'estimated_cost'],
    ];
    for (const [body, field] of cases) {
      const response = await app.call('POST', `/api/tasks/${created.body.id}/nodes`, body);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain(field);
    }
  });
});
