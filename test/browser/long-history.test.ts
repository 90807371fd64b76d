import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { launchChromium } from '../support/chromium.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const WAIT_MS = 20_000;
const LONG_RESULT = `${'A long report line.\n'.repeat(2_500)}THE-LAST-LINE`;

describe('Mission Control with a long history and long results, in Chromium', () => {
  let browser: Browser;
  let server: LiveServer;
  let page: Page;
  let longTaskId: string;

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({ MERIT_EVALUATION: 'false' });
    // 60 tasks sharing one timestamp: more than the first page, and a tie a time-based cursor would split.
    await server.database.pool.query(
      `INSERT INTO tasks (project_id, user_id, agent_id, command, status, result, created_at, completed_at)
       SELECT '00000000-0000-0000-0000-000000000000', $1, 'agent_a', 'history task ' || n, 'completed', 'done ' || n, now() - interval '1 hour',
         now() - interval '1 hour'
       FROM generate_series(1, 60) AS n`,
      [DEFAULT_USER_ID],
    );
    const response = await fetch(`${server.url}/api/tasks/completed?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent_id: 'agent_a', command: 'write the long report', result: LONG_RESULT }),
    });
    expect(response.status).toBe(201);
    longTaskId = ((await response.json()) as { task_ids: string[] }).task_ids[0] as string;
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(server.url);
    await page.locator('[data-testid="connection"].connection-open').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows a preview of a long result and the whole result when the user asks for it', async () => {
    const item = page.locator(`[data-testid="task-item"][data-task-id="${longTaskId}"]`);
    await item.waitFor();
    expect(await item.getByText('THE-LAST-LINE').count()).toBe(0);
    const toggle = item.getByTestId('task-show-whole');
    expect(await toggle.textContent()).toContain('50,013');
    await toggle.click();
    await item.getByText('THE-LAST-LINE').waitFor();
    await item.getByRole('button', { name: 'Show less' }).click();
    expect(await item.getByText('THE-LAST-LINE').count()).toBe(0);
  });

  it('loads every earlier task, each once, through the next cursor', async () => {
    const items = page.getByTestId('task-item');
    await expect.poll(() => items.count(), { timeout: WAIT_MS }).toBe(50);
    await page.getByRole('button', { name: 'Load earlier tasks' }).click();
    await expect.poll(() => items.count(), { timeout: WAIT_MS }).toBe(61);
    expect(await page.getByRole('button', { name: 'Load earlier tasks' }).count()).toBe(0);
    const ids = await items.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-task-id')));
    expect(new Set(ids).size).toBe(61);
  });
});
