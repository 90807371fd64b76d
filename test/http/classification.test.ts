import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CategoryClassifier, getCategoryClassifier } from '../../src/routing/classification.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { type FakeLlmServer, startFakeLlmServer } from '../support/fake-llm-server.js';

describe.each(databaseKinds())('the category classifier (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let llm: FakeLlmServer;

  beforeAll(async () => {
    llm = await startFakeLlmServer();
    app = await createTestApp(kind, { MERIT_LLM_PROVIDER: 'openai', MERIT_LLM_BASE_URL: llm.baseUrl });
  });
  afterAll(async () => {
    await app?.close();
    await llm?.close();
  });
  beforeEach(() => llm.reset());

  it('asks the LLM first, restricted to the known categories', async () => {
    llm.script([{ json: { category: 'compliance', confidence: 0.93 } }]);
    const { body } = await app.call('POST', '/api/route/classify', { command: 'is our cookie banner fine?' });
    expect(body).toMatchObject({ category: 'compliance', confidence: 0.93, source: 'llm', fell_back: false });
    const [request] = llm.requests;
    const format = request?.body.response_format as { json_schema: { schema: any } };
    const schema = format.json_schema.schema;
    expect(schema.properties.category.enum).toContain('research');
    expect(schema.properties.category.enum).toHaveLength(10);
  });

  it('asks again when the LLM names an unknown category, then falls back to the offline model', async () => {
    llm.script([
      { json: { category: 'astrology', confidence: 0.9 } },
      { json: { category: 'horoscopes', confidence: 0.9 } },
    ]);
    const { body } = await app.call('POST', '/api/route/classify', { command: 'research quantum computing' });
    expect(body).toMatchObject({ category: 'research', source: 'classifier' });
    expect(llm.requests).toHaveLength(2);
  });

  it('falls back to the offline model when the LLM is down, also for new tasks', async () => {
    llm.setFallback(() => ({ status: 500, body: { error: { message: 'down' } } }));
    const task = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'research quantum computing',
    });
    expect(task.body).toMatchObject({ objective_category: 'research', category_source: 'classifier' });
  });

  it('marks an unsure LLM answer as general', async () => {
    llm.script([{ json: { category: 'writing', confidence: 0.2 } }]);
    const { body } = await app.call('POST', '/api/route/classify', { command: 'do the thing' });
    expect(body).toMatchObject({ category: 'general', source: 'llm', fell_back: true });
    expect(body.alternatives[0]).toEqual({ category: 'writing', confidence: 0.2 });
  });

  it('is the classifier registered for the app database', () => {
    expect(getCategoryClassifier(app.ctx.db)).toBeInstanceOf(CategoryClassifier);
  });

  it('retrains from labelled tasks after every N new ones', async () => {
    const classifier = new CategoryClassifier(app.ctx.db, { retrainEvery: 3 });
    const command = 'frobnicate the zorblax widgets';
    await classifier.classify(command);
    expect(classifier.trainingCount).toBe(1);
    await classifier.classify(command);
    expect(classifier.trainingCount).toBe(1);
    const label = (index: number) => ({
      agent_id: 'agent_b',
      command: `frobnicate the zorblax widgets ${index}`,
      objective_category: 'compliance',
      result: 'done',
    });
    await app.call('POST', '/api/tasks/batch', { tasks: [label(1), label(2)] });
    expect((await classifier.classify(command)).category).not.toBe('compliance');
    expect(classifier.trainingCount).toBe(1);
    await app.call('POST', '/api/tasks/batch', { tasks: [label(3)] });
    const retrained = await classifier.classify(command);
    expect(classifier.trainingCount).toBe(2);
    expect(retrained).toMatchObject({ category: 'compliance', source: 'classifier' });
  });
});
