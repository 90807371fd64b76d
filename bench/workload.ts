/** The benchmark's workload: deterministic finished tasks and the plain INSERTs of the same rows. */
import type pg from 'pg';
import { DEFAULT_USER_ID } from '../src/config.js';

export const AGENTS = ['agent_a', 'agent_b', 'agent_c', 'agent_d', 'agent_e', 'agent_f', 'agent_chat'];
export const CATEGORIES = [
  'research',
  'analysis',
  'writing',
  'planning',
  'compliance',
  'coding',
  'data',
  'chat',
  'review',
  'general',
];

const NODE_NAMES = ['plan', 'research', 'respond'];

export function makeTask(index: number) {
  return {
    id: crypto.randomUUID(),
    agent_id: AGENTS[index % AGENTS.length] as string,
    command: `benchmark command number ${index}`,
    objective_category: CATEGORIES[index % CATEGORIES.length] as string,
    result: `Result of task ${index}: a short answer with a few words.`,
    model: 'gpt-4o-mini',
    prompt_tokens: 800 + (index % 400),
    completion_tokens: 300 + (index % 200),
    duration_ms: 5000 + (index % 3000),
    nodes: NODE_NAMES.map((node_name, n) => ({
      node_name,
      duration_ms: 1000 + n * 500,
      total_tokens: 300 + n * 50,
    })),
  };
}
export type BenchTask = ReturnType<typeof makeTask>;

/** The rows Merit stores for one finished task (task, score, nodes), as plain INSERT statements. */
export function rawStatements(
  tasks: readonly BenchTask[],
  includeDependents: boolean,
): { text: string; values: unknown[] }[] {
  const taskValues: unknown[] = [];
  const taskRows = tasks.map((task, i) => {
    taskValues.push(
      task.id,
      DEFAULT_USER_ID,
      task.agent_id,
      task.command,
      task.objective_category,
      task.result,
      task.model,
    );
    taskValues.push(
      task.prompt_tokens,
      task.completion_tokens,
      task.prompt_tokens + task.completion_tokens,
      task.duration_ms,
    );
    const p = (n: number) => `$${i * 11 + n}`;
    return `(${p(1)}, '00000000-0000-0000-0000-000000000000', ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 'completed', ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)}, now(), now())`;
  });
  const statements = [
    {
      text: `INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, status, result, model, prompt_tokens, completion_tokens, total_tokens, duration_ms, started_at, completed_at) VALUES ${taskRows.join(', ')}`,
      values: taskValues,
    },
  ];
  if (!includeDependents) return statements;
  const scoreValues: unknown[] = [];
  const scoreRows = tasks.map((task, i) => {
    scoreValues.push(
      task.id,
      task.agent_id,
      DEFAULT_USER_ID,
      task.objective_category,
      0.5,
      0.5,
      task.prompt_tokens + task.completion_tokens,
    );
    const p = (n: number) => `$${i * 7 + n}`;
    // The score row takes its task's project by trigger, as nodes do.
    return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)})`;
  });
  statements.push({
    text: `INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, efficiency_score, overall_score, total_tokens) VALUES ${scoreRows.join(', ')}`,
    values: scoreValues,
  });
  const nodeValues: unknown[] = [];
  const nodeRows = tasks.flatMap((task) =>
    task.nodes.map((node, sequence) => {
      const base = nodeValues.length;
      nodeValues.push(task.id, task.agent_id, node.node_name, sequence, node.duration_ms, node.total_tokens);
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6})`;
    }),
  );
  statements.push({
    text: `INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens) VALUES ${nodeRows.join(', ')}`,
    values: nodeValues,
  });
  return statements;
}

/** Single-row INSERTs (autocommit) of one task's rows: the task row alone, or every row Merit stores for it. */
export async function insertRawSingle(raw: pg.Pool, task: BenchTask, allRows: boolean): Promise<void> {
  if (!allRows) {
    const [statement] = rawStatements([task], false);
    await raw.query(statement as { text: string; values: unknown[] });
    return;
  }
  const [taskRow, scoreRow] = rawStatements([task], true);
  await raw.query(taskRow as { text: string; values: unknown[] });
  await raw.query(scoreRow as { text: string; values: unknown[] });
  for (const [sequence, node] of task.nodes.entries()) {
    await raw.query(
      'INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens) VALUES ($1, $2, $3, $4, $5, $6)',
      [task.id, task.agent_id, node.node_name, sequence, node.duration_ms, node.total_tokens],
    );
  }
}

export async function post(baseUrl: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${baseUrl}${path}?user_id=${DEFAULT_USER_ID}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}
