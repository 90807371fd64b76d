import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREVIEW_CHARS } from '../../src/lib/paging.js';
import { createTestApp, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

const MEGABYTE_RESULT = `${'0123456789'.repeat(99_999)}the end!!!`;
const LONG_COMMAND = `research ${'c'.repeat(19_000)} and report`;
const LONG_FEEDBACK = 'f'.repeat(9_000);
// 4 bytes in UTF-8 and 2 UTF-16 units each: lengths and cuts count characters, as PostgreSQL does.
const EMOJI_RESULT = '😀'.repeat(3_000);

async function recordFinished(app: TestApp, task: Record<string, unknown>): Promise<string> {
  const { status, body } = await app.call('POST', '/api/tasks/completed', {
    agent_id: 'agent_a',
    command: 'research something',
    duration_ms: 1000,
    total_tokens: 100,
    ...task,
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body.task_ids[0];
}

describe.each(databaseKinds())('bounded previews in lists (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let bigId: string;
  let emojiId: string;
  let failedId: string;

  beforeAll(async () => {
    app = await createTestApp(kind);
    bigId = await recordFinished(app, {
      command: LONG_COMMAND,
      result: MEGABYTE_RESULT,
      user_rating: 4,
      user_feedback: LONG_FEEDBACK,
    });
    emojiId = await recordFinished(app, { result: EMOJI_RESULT });
    failedId = await recordFinished(app, { status: 'failed', error: 'e'.repeat(10_000) });
    for (let i = 0; i < 9; i++) await recordFinished(app, { result: MEGABYTE_RESULT });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lists a 1 MB result as its first characters, with its full length and the truncated flag', async () => {
    const { status, body } = await app.call('GET', '/api/tasks?limit=200');
    expect(status).toBe(200);
    const task = body.tasks.find((item: { id: string }) => item.id === bigId);
    expect(task.result).toBe(MEGABYTE_RESULT.slice(0, PREVIEW_CHARS));
    expect(task.result_length).toBe(1_000_000);
    expect(task.command).toBe(LONG_COMMAND.slice(0, PREVIEW_CHARS));
    expect(task.command_length).toBe(LONG_COMMAND.length);
    expect(task.score.user_rating).toBe(4);
    expect(task.score.user_feedback).toBe(LONG_FEEDBACK.slice(0, PREVIEW_CHARS));
    expect(task.score.user_feedback_length).toBe(LONG_FEEDBACK.length);
    expect(task.truncated).toBe(true);
    const failed = body.tasks.find((item: { id: string }) => item.id === failedId);
    expect(failed.error).toHaveLength(PREVIEW_CHARS);
    expect(failed.error_length).toBe(10_000);
    expect(failed.truncated).toBe(true);
  });

  it('cuts and counts by characters, not bytes or UTF-16 units', async () => {
    const { body } = await app.call('GET', '/api/tasks?limit=200');
    const task = body.tasks.find((item: { id: string }) => item.id === emojiId);
    expect([...task.result]).toHaveLength(PREVIEW_CHARS);
    expect(task.result).toBe(EMOJI_RESULT.slice(0, 2 * PREVIEW_CHARS));
    expect(task.result_length).toBe(3_000);
    const whole = await app.call('GET', `/api/tasks/${emojiId}`);
    expect(whole.body.result_length).toBe(3_000);
  });

  it('keeps the whole list answer small however large the results are', async () => {
    const response = await app.database.pool.query('SELECT sum(length(result))::int AS n FROM tasks');
    expect(response.rows[0].n).toBeGreaterThan(10_000_000);
    const { body } = await app.call('GET', '/api/tasks?limit=200');
    expect(body.tasks).toHaveLength(12);
    // Four cut texts of PREVIEW_CHARS characters (at most 4 bytes each) plus the other fields, per task.
    expect(JSON.stringify(body).length).toBeLessThan(12 * (4 * 4 * PREVIEW_CHARS + 2_000));
  });

  it('gives the whole texts from the one-task endpoint', async () => {
    const { status, body } = await app.call('GET', `/api/tasks/${bigId}`);
    expect(status).toBe(200);
    expect(body.result).toBe(MEGABYTE_RESULT);
    expect(body.result_length).toBe(1_000_000);
    expect(body.command).toBe(LONG_COMMAND);
    expect(body.score.user_feedback).toBe(LONG_FEEDBACK);
    expect(body.truncated).toBe(false);
  });

  it("lists an agent's scored tasks with command and feedback previews", async () => {
    const { status, body } = await app.call('GET', '/api/agents/agent_a/performance?limit=200');
    expect(status).toBe(200);
    const task = body.tasks.find((item: { task_id: string }) => item.task_id === bigId);
    expect(task.command).toHaveLength(PREVIEW_CHARS);
    expect(task.command_length).toBe(LONG_COMMAND.length);
    expect(task.user_feedback).toHaveLength(PREVIEW_CHARS);
    expect(task.user_feedback_length).toBe(LONG_FEEDBACK.length);
    expect(task.truncated).toBe(true);
  });

  it('lists routing decisions with command previews, and gives the whole command for the one task', async () => {
    await app.database.pool.query(
      `INSERT INTO routing_decisions (project_id, user_id, task_id, command, category, category_source, chosen_agent_id,
         reason, expected_score, interval_lower, interval_upper, explanation)
       VALUES ('00000000-0000-0000-0000-000000000000', $1, $2, $3, 'general', 'default', 'agent_a', 'thompson', 0.5, 0.4, 0.6, 'why')`,
      [USER, bigId, LONG_COMMAND],
    );
    const list = await app.call('GET', '/api/routing/decisions');
    expect(list.status).toBe(200);
    expect(list.body.decisions[0]).toMatchObject({
      command: LONG_COMMAND.slice(0, PREVIEW_CHARS),
      command_length: LONG_COMMAND.length,
      truncated: true,
    });
    const one = await app.call('GET', `/api/tasks/${bigId}/routing-decision`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      command: LONG_COMMAND,
      command_length: LONG_COMMAND.length,
      truncated: false,
    });
  });

  it('shows short texts whole in lists, marked as not truncated', async () => {
    const id = await recordFinished(app, { result: 'short' });
    const { body } = await app.call('GET', '/api/tasks?limit=1');
    expect(body.tasks[0]).toMatchObject({ id, result: 'short', result_length: 5, truncated: false });
  });
});
