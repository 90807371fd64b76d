import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { launchChromium } from '../support/chromium.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const WAIT_MS = 20_000;

/**
 * Four steps: one fully reported, one on a model without a price, a tool call that reported 0 tokens
 * and one that reported nothing.
 */
const NODES = [
  {
    node_name: 'plan',
    duration_ms: 1500,
    prompt_tokens: 1200,
    completion_tokens: 300,
    cache_read_tokens: 800,
    reasoning_tokens: 120,
    model: 'gpt-4o-mini',
    provider: 'openai',
    estimated_cost: 0.0021,
    success: true,
  },
  {
    node_name: 'search',
    duration_ms: 2400,
    prompt_tokens: 500,
    completion_tokens: 50,
    model: 'mystery-model-9',
    provider: 'acme',
    success: true,
  },
  { node_name: 'lookup', duration_ms: 40, total_tokens: 0, success: true },
  { node_name: 'format', success: false, error: 'the formatter gave up' },
];

/** Each step row's cells as text: sequence, step, status, duration, model, tokens, cost. */
async function readSteps(scope: Locator): Promise<string[][]> {
  const rows = scope.getByTestId('task-node-row');
  const cells: string[][] = [];
  for (let index = 0; index < (await rows.count()); index++)
    cells.push(await rows.nth(index).locator('th, td').allTextContents());
  return cells;
}

function expectSteps(steps: string[][]): void {
  expect(steps.map((row) => row[1])).toEqual(['plan', 'search', 'lookup', 'formatthe formatter gave up']);
  expect(steps[0]).toEqual([
    '1',
    'plan',
    'completed',
    '1.5 s',
    'gpt-4o-mini · openai',
    '1,500 tok1,200 in · 300 out · 800 cache read · 120 reasoning',
    '$0.0021',
  ]);
  // A model Merit has no price for: its cost is unknown, not $0.
  expect(steps[1]?.slice(3)).toEqual(['2.4 s', 'mystery-model-9 · acme', '550 tok500 in · 50 out', '–']);
  // A tool call that used no tokens: a real 0, not unknown; it named no model and has no cost.
  expect(steps[2]?.slice(2)).toEqual(['completed', '40 ms', '–', '0 tok', '–']);
  // A step that reported no duration, model, tokens or cost.
  expect(steps[3]?.slice(2)).toEqual(['failed', '–', '–', '–', '–']);
}

describe("a task's steps in Mission Control (Chromium)", () => {
  let browser: Browser;
  let server: LiveServer;
  let page: Page;
  let taskId: string;

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({ MERIT_EVALUATION: 'false' });
    const response = await fetch(`${server.url}/api/tasks/completed?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        agent_id: 'agent_b',
        command: 'compare three vendors step by step',
        result: 'Vendor B is cheapest.',
        nodes: NODES,
      }),
    });
    expect(response.status).toBe(201);
    taskId = ((await response.json()) as { task_ids: string[] }).task_ids[0] as string;
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lists the steps of a task opened in the stream, with "–" for what was not reported and 0 tokens as 0', async () => {
    await page.goto(`${server.url}/#/`);
    const item = page.locator(`[data-testid="task-item"][data-task-id="${taskId}"]`);
    await item.waitFor();
    expect(await item.getByTestId('task-node-row').count()).toBe(0);
    await item.getByTestId('task-steps-toggle').click();
    await item.getByTestId('task-node-row').nth(3).waitFor();
    expectSteps(await readSteps(item));
    expect(await item.getByTestId('task-steps-toggle').getAttribute('aria-expanded')).toBe('true');
  });

  it("lists them in the task's details in the agent's history", async () => {
    await page.goto(`${server.url}/#/agents/agent_b?range=all`);
    const row = page.locator(`[data-testid="history-row"][data-task-id="${taskId}"]`);
    await row.getByTestId('history-details-toggle').click();
    const details = page.getByTestId('task-evaluation');
    await details.getByTestId('task-node-row').nth(3).waitFor();
    expectSteps(await readSteps(details));
  });
});
