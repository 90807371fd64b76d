import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { DEFAULT_PROJECT_ID } from '../../src/identity/scope.js';
import { launchChromium } from '../support/chromium.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const WAIT_MS = 20_000;
const DAY_MS = 86_400_000;

/** A task of agent_a the user rated, finished and reviewed by kai (agent_d) `daysAgo` days ago. */
async function recordReviewedTask(server: LiveServer, daysAgo: number): Promise<void> {
  const db = server.services.ctx.db;
  const at = new Date(Date.now() - daysAgo * DAY_MS);
  const id = crypto.randomUUID();
  await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, status, result, created_at, completed_at)
    VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${DEFAULT_USER_ID}, 'agent_a', 'an old reviewed task', 'completed', 'done',
      ${at}, ${at})`.execute(db);
  await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category, user_rating)
    VALUES (${id}, ${DEFAULT_PROJECT_ID}, 'agent_a', ${DEFAULT_USER_ID}, 'general', 4)`.execute(db);
  // The review tables' created_at is a plain timestamp holding UTC.
  await sql`INSERT INTO agent_peer_evaluations (project_id, task_id, evaluated_agent_id, reviewer_agent_id, perspective,
      score, source, evaluator_version, prompt_tokens, completion_tokens, estimated_cost, created_at)
    VALUES (${DEFAULT_PROJECT_ID}, ${id}, 'agent_a', 'agent_d', 'strategy', 0.7, 'llm', 'peer-llm-1', 100, 10, 0.001,
      ${at}::timestamptz AT TIME ZONE 'UTC')`.execute(db);
}

/** A row's cells as text, in order (the row header first). */
function readRow(page: Page, scope: string): Promise<string[]> {
  return page
    .locator(`${scope} [data-testid="reviewer-row"][data-agent="agent_d"]`)
    .locator('th, td')
    .allTextContents();
}

describe('the reviewers window picker in Mission Control (Chromium)', () => {
  let browser: Browser;
  let server: LiveServer;
  let page: Page;

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({ MERIT_EVALUATION: 'false' });
    // Kai's only review is 40 days old: outside the default 30 days, inside 90 days and the whole history.
    await recordReviewedTask(server, 40);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("counts a 40-day-old review in the leaderboard's reviewers panel only over 90 days or the whole history", async () => {
    await page.goto(`${server.url}/#/?tab=leaderboard`);
    const panel = '[data-testid="reviewers"]';
    await page.locator(`${panel} [data-testid="reviewer-row"][data-agent="agent_d"]`).waitFor();
    const label = page.locator(`${panel} [data-testid="reviewers-window-label"]`);
    expect(await label.textContent()).toContain('of the last 30 days');
    expect(await page.getByTestId('reviewers-window-30d').isChecked()).toBe(true);
    // Reviewer, tasks (reviews of rated tasks), agreement, average miss, weight.
    expect((await readRow(page, panel))[1]).toBe('0');

    await page.getByTestId('reviewers-window-all').check({ force: true });
    await expect.poll(() => label.textContent()).toContain('of the whole history');
    await expect.poll(async () => (await readRow(page, panel))[1]).toBe('1');

    await page.getByTestId('reviewers-window-90d').check({ force: true });
    await expect.poll(() => label.textContent()).toContain('of the last 90 days');
    await expect.poll(async () => (await readRow(page, panel))[1]).toBe('1');

    await page.getByTestId('reviewers-window-7d').check({ force: true });
    await expect.poll(() => label.textContent()).toContain('of the last 7 days');
    await expect.poll(async () => (await readRow(page, panel))[1]).toBe('0');
  });

  it('counts it in the admin reviewers table only over 90 days or the whole history', async () => {
    await page.goto(`${server.url}/#/admin`);
    await page.getByTestId('admin-tab-reviewers').click();
    const table = '[data-testid="reviewers-table"]';
    await page.locator(`${table} [data-testid="reviewer-row"][data-agent="agent_d"]`).waitFor();
    const label = page.getByTestId('reviewers-window-label');
    expect(await label.textContent()).toContain('of the last 30 days');
    // Reviewer, perspective, reviews, pairs with ratings, agreement, mean error, weight.
    expect((await readRow(page, table)).slice(2, 4)).toEqual(['0', '0']);

    await page.getByTestId('reviewers-window-all').check({ force: true });
    await expect.poll(() => label.textContent()).toContain('of the whole history');
    await expect.poll(async () => (await readRow(page, table)).slice(2, 4)).toEqual(['1', '1']);

    await page.getByTestId('reviewers-window-90d').check({ force: true });
    await expect.poll(() => label.textContent()).toContain('of the last 90 days');
    await expect.poll(async () => (await readRow(page, table)).slice(2, 4)).toEqual(['1', '1']);
  });
});
