import { createProgress } from '../../../src/lib/progress.js';
import type { WriteLedger } from '../checks.js';
import { type FuzzRequest, listOperations, type OpenApiDocument, RequestFuzzer } from '../openapi-fuzz.js';
import type { ScenarioDefinition } from '../scenario.js';
import { CHAOS_USER_ID, isSuccess, runBounded } from '../workload.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c', 'agent_d', 'agent_e', 'agent_f'];
const CATEGORIES = ['research', 'analysis', 'writing', 'planning', 'coding', 'general'];
const MUTATED_SHARE = 0.9;
/** Operations with a JSON body get most requests: they have the most to mutate and they write. */
const BODY_OPERATION_SHARE = 0.6;

/**
 * Requests generated from Merit's own OpenAPI document, then mutated (wrong types, huge and negative
 * numbers, NUL bytes, unicode, missing and extra fields, bad path ids, out-of-range dates, bad JSON),
 * from a seeded generator: the same seed sends the same requests.
 */
export const openApiFuzz: ScenarioDefinition = {
  name: 'fuzz',
  title: 'OpenAPI-driven fuzzer of mutated requests',
  connectionPerRequest: true,
  async run(env) {
    const mutatedTarget = env.options.quick ? 600 : 5000;
    const { client, ledger } = env;
    const { json: document } = await client.sendJson<OpenApiDocument>({
      method: 'GET',
      path: '/api/openapi.json',
    });
    if (!document) throw new Error('GET /api/openapi.json did not answer a document');
    const workload = env.workload({ agents: AGENTS, categories: CATEGORIES });
    // Real tasks (running and finished) for the path ids; created one after another for reproducible ids.
    for (let i = 0; i < 20; i++) await workload.createTask();
    for (let i = 0; i < 2; i++) await workload.recordFinished(10);
    const fuzzer = new RequestFuzzer(
      document,
      env.random,
      { userId: CHAOS_USER_ID, taskIds: [...ledger.tasks.keys()], agentIds: AGENTS, categories: CATEGORIES },
      env.options.seed,
    );
    const operations = listOperations(document);
    const withBody = operations.filter((operation) => operation.body !== undefined);
    const requests: FuzzRequest[] = [];
    let mutated = 0;
    while (mutated < mutatedTarget) {
      const pool = withBody.length > 0 && env.random() < BODY_OPERATION_SHARE ? withBody : operations;
      const operation = pool[Math.floor(env.random() * pool.length)];
      if (!operation) throw new Error('the OpenAPI document lists no operation');
      const request = fuzzer.build(operation, env.random() < MUTATED_SHARE);
      if (request.mutations.length > 0) mutated++;
      requests.push(request);
    }
    const fingerprint = RequestFuzzer.fingerprint(requests);
    env.log(
      `${requests.length} requests (${mutated} mutated) over ${operations.length} operations, seed ${env.options.seed}, fingerprint ${fingerprint}`,
    );
    const progress = createProgress('[fuzz] requests', requests.length, env.options.progress);
    let done = 0;
    const byMutation = new Map<string, number>();
    for (const request of requests)
      for (const kind of request.mutations) byMutation.set(kind, (byMutation.get(kind) ?? 0) + 1);
    await runBounded(requests.length, 32, async (index) => {
      const request = requests[index] as FuzzRequest;
      noteRatingSent(ledger, request);
      const { outcome, json } = await client.sendJson<Record<string, unknown>>(request.spec);
      if (isSuccess(outcome) && json) recordAcknowledged(ledger, request, json);
      progress.update(++done);
    });
    progress.finish(client.tally.describe());
    return {
      notes: [
        `${requests.length} requests, ${mutated} mutated, over ${operations.length} operations; seed ${env.options.seed}, request fingerprint ${fingerprint}`,
        `mutations: ${[...byMutation.entries()].map(([kind, count]) => `${kind} ${count}`).join(', ')}`,
      ],
    };
  },
};

function taskIdOf(request: FuzzRequest): string | undefined {
  const raw = request.pathValues.task_id;
  if (raw === undefined) return undefined;
  try {
    const id = decodeURIComponent(raw);
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
      ? id.toLowerCase()
      : undefined;
  } catch {
    return undefined;
  }
}

/** A rating sent may be stored even when its answer is lost: remember every one. */
function noteRatingSent(ledger: WriteLedger, request: FuzzRequest): void {
  const body = request.spec.body;
  const taskId = taskIdOf(request);
  if (!request.operation.path.endsWith('/feedback') || !taskId || typeof body !== 'object' || body === null)
    return;
  const rating = Number((body as { user_rating?: unknown }).user_rating);
  if (Number.isFinite(rating)) ledger.ratingSent(taskId, rating);
}

/** Enters what a 2xx answer to a write promises into the ledger. */
function recordAcknowledged(ledger: WriteLedger, request: FuzzRequest, json: Record<string, unknown>): void {
  const { method } = request.spec;
  const path = request.operation.path;
  const taskId = taskIdOf(request);
  if (
    method === 'POST' &&
    (path === '/api/tasks' || path === '/api/commands') &&
    typeof json.id === 'string'
  ) {
    ledger.task(json.id, 'exists');
  } else if (method === 'POST' && (path === '/api/tasks/completed' || path === '/api/tasks/batch')) {
    for (const id of Array.isArray(json.task_ids) ? json.task_ids : []) ledger.task(String(id), 'finished');
  } else if (method === 'POST' && path === '/api/categories' && typeof json.category === 'string') {
    ledger.categories.add(json.category);
  } else if (taskId && path.endsWith('/complete')) {
    ledger.task(taskId, 'completed');
  } else if (taskId && path.endsWith('/fail')) {
    ledger.task(taskId, 'failed');
  } else if (taskId && path.endsWith('/start')) {
    ledger.task(taskId, 'started');
  } else if (taskId && path.endsWith('/nodes') && typeof json.id === 'string') {
    ledger.nodes.add(json.id);
  } else if (taskId && path.endsWith('/feedback')) {
    const rating = Number((request.spec.body as { user_rating?: unknown }).user_rating);
    ledger.ratingAcknowledged(taskId, rating);
  }
}
