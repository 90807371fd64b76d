import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, OTHER_USER, type TestApp, USER } from '../support/app.js';

async function completeWithModel(app: TestApp, model: string, user = USER): Promise<void> {
  const created = await app.call(
    'POST',
    '/api/tasks',
    { agent_id: 'agent_a', command: `research with ${model}`, objective_category: 'research' },
    { user },
  );
  expect(created.status).toBe(201);
  const completed = await app.call(
    'POST',
    `/api/tasks/${created.body.id}/complete`,
    { result: 'done', model, prompt_tokens: 1000, completion_tokens: 100 },
    { user },
  );
  expect(completed.status).toBe(200);
}

describe('GET /api/prices (embedded PostgreSQL)', () => {
  let app: TestApp;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'merit-prices-'));
    const file = path.join(dir, 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({
        checked: '2026-11-29',
        models: { 'house-model': { input: 1, output: 2 } },
        patterns: [{ glob: 'house-model-*', same_as: 'house-model' }],
      }),
    );
    app = await createTestApp('embedded', {
      MERIT_PRICES_FILE: file,
      MERIT_LLM_BASE_URL: 'http://127.0.0.1:9',
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_JUDGE_MODEL: 'judge-without-price',
    });
    await completeWithModel(app, 'gpt-4o');
    await completeWithModel(app, 'gpt-4o');
    await completeWithModel(app, 'house-model-large');
    await completeWithModel(app, 'mystery-model-9');
    await completeWithModel(app, 'someone-elses-model', OTHER_USER);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('lists the price table with the override file, its date and its patterns', async () => {
    const { status, body } = await app.call('GET', '/api/prices');
    expect(status).toBe(200);
    expect(body.unit).toBe('USD per 1M tokens');
    expect(body.checked).toBe('2026-11-29');
    expect(body.models).toContainEqual({
      model: 'house-model',
      input_per_million: 1,
      output_per_million: 2,
      cached_input_per_million: 1,
      cache_write_per_million: 1,
      reasoning_per_million: 2,
    });
    expect(body.models.find((row: { model: string }) => row.model === 'gpt-4o')).toBeDefined();
    expect(body.pattern_count).toBeGreaterThanOrEqual(1);
  });

  it("names the models of the user's tasks and of the configuration that have no price", async () => {
    const { body } = await app.call('GET', '/api/prices');
    const byModel = new Map(body.models_in_use.map((row: { model: string }) => [row.model, row]));
    expect(byModel.get('gpt-4o')).toMatchObject({
      tasks: 2,
      unpriced_tasks: 0,
      matched_by: 'exact',
      configured_as: [],
    });
    expect(byModel.get('house-model-large')).toMatchObject({
      tasks: 1,
      matched_by: 'pattern',
      price: expect.objectContaining({ input_per_million: 1, output_per_million: 2 }),
    });
    expect(byModel.get('mystery-model-9')).toMatchObject({
      tasks: 1,
      unpriced_tasks: 1,
      matched_by: null,
      price: null,
    });
    expect(byModel.get('judge-without-price')).toMatchObject({
      tasks: 0,
      configured_as: ['judge'],
      price: null,
    });
    expect(byModel.get('gpt-4o-mini')).toMatchObject({ configured_as: ['default'], matched_by: 'exact' });
    expect(body.unpriced_models.sort()).toEqual(['judge-without-price', 'mystery-model-9']);
    // Another local user's tasks stay theirs.
    expect(byModel.has('someone-elses-model')).toBe(false);
    const theirs = await app.call('GET', '/api/prices', undefined, { user: OTHER_USER });
    expect(theirs.body.unpriced_models).toContain('someone-elses-model');
    expect(theirs.body.unpriced_models).not.toContain('mystery-model-9');
  });
});
