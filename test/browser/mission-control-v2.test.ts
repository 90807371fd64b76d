import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { seedDemo } from '../../src/demo/seed-demo.js';
import { launchChromium } from '../support/chromium.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const WAIT_MS = 20_000;
const NARROW = { width: 390, height: 844 };
const WIDE = { width: 1366, height: 900 };

/** Every view of Mission Control in local mode, by the hash that opens it, and what shows it is ready. */
const VIEWS = [
  { name: 'conversation-actions', hash: '#/?tab=actions', ready: '[data-testid="panel-actions"]' },
  { name: 'conversation-leaderboard', hash: '#/?tab=leaderboard', ready: '[data-testid="leaderboard-row"]' },
  { name: 'conversation-routing', hash: '#/?tab=routing', ready: '[data-testid="panel-routing"]' },
  {
    name: 'conversation-filtered',
    hash: '#/?status=failed&tab=leaderboard',
    ready: '[data-testid="task-item"]',
  },
  { name: 'agent', hash: '#/agents/agent_a?tab=leaderboard&range=30d', ready: '[data-testid="history-row"]' },
  { name: 'status', hash: '#/status', ready: '[data-testid="status-page"] h3' },
  { name: 'arena', hash: '#/arena', ready: '[data-testid="arena-command"]' },
  { name: 'admin', hash: '#/admin', ready: '[data-testid="admin-tab-members"]' },
] as const;

// Markdown an agent could return: a table, a nested list, and links a result must not turn into attacks.
const MARKDOWN_RESULT = [
  '| Agent | Score |',
  '| --- | ---: |',
  '| bob | 72 |',
  '',
  '1. Plan',
  '   - gather data',
  '   - check sources',
  '2. Report',
  '',
  '[safe](https://example.com/paper) [script](javascript:alert(1)) [offsite](//evil.example/login)',
  '',
  '<img src=x onerror="window.__pwned = true"> <script>window.__pwned = true</script>',
].join('\n');

async function apiGet<T>(server: LiveServer, pathAndQuery: string): Promise<T> {
  const separator = pathAndQuery.includes('?') ? '&' : '?';
  const response = await fetch(`${server.url}/api${pathAndQuery}${separator}user_id=${DEFAULT_USER_ID}`);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function openView(page: Page, server: LiveServer, hash: string, ready: string): Promise<void> {
  await page.goto(`${server.url}/${hash}`);
  await page.locator('[data-testid="connection"].connection-open').waitFor();
  await page.locator(ready).first().waitFor();
}

/** The widest thing on the page: more than the viewport means a horizontal scroll. */
function pageWidth(page: Page): Promise<number> {
  return page.evaluate<number>('(document.scrollingElement ?? document.documentElement).scrollWidth');
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations. */
async function findSeriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate<boolean>("'axe' in window"))) await page.addScriptTag({ path: AXE });
  // A string runs in the page: the test's own TypeScript has no DOM types.
  const violations = await page.evaluate<AxeViolation[]>(
    'axe.run(document).then((result) => result.violations)',
  );
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes
          .map((node) => node.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    )
    .join('\n');
}

describe('Mission Control v2 in Chromium, over a seeded demo history', () => {
  let browser: Browser;
  let server: LiveServer;
  let context: BrowserContext;
  let page: Page;
  let markdownTaskId: string;

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({
      MERIT_SIMULATION_SEED: '42',
      MERIT_SIMULATION_SPEED: '50',
      MERIT_EVALUATION: 'false',
    });
    await seedDemo(server.services.ctx.db, {
      tasks: 300,
      days: 10,
      seed: 42,
      userId: DEFAULT_USER_ID,
      progress: 'silent',
    });
    const response = await fetch(`${server.url}/api/tasks/completed?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        agent_id: 'agent_b',
        command: 'summarise the markdown report',
        result: MARKDOWN_RESULT,
      }),
    });
    expect(response.status).toBe(201);
    markdownTaskId = ((await response.json()) as { task_ids: string[] }).task_ids[0] as string;
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    context = await browser.newContext({ viewport: WIDE, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the ratings of the seeded history in the widgets (not empty ones)', async () => {
    const listed = await apiGet<{ tasks: { id: string; score: { user_rating: number | null } | null }[] }>(
      server,
      '/tasks?limit=50',
    );
    const rated = listed.tasks.filter((task) => task.score?.user_rating != null);
    expect(rated.length).toBeGreaterThan(5);
    await openView(page, server, '#/', '[data-testid="task-item"]');
    for (const task of rated.slice(0, 10)) {
      const widget = page.locator(
        `[data-testid="task-item"][data-task-id="${task.id}"] [data-testid="feedback-widget"]`,
      );
      expect(await widget.getAttribute('data-state')).toBe('rated');
      expect(await widget.getAttribute('data-rating')).toBe(String(task.score?.user_rating));
    }
  });

  it('keeps a rating given in the browser after a reload, and rating again updates it', {
    timeout: 90_000,
  }, async () => {
    await openView(page, server, '#/?unrated=true&status=completed', '[data-testid="task-item"]');
    const item = page.getByTestId('task-item').last();
    const taskId = (await item.getAttribute('data-task-id')) as string;
    await item.getByTestId('feedback-star-input-1').focus();
    await page.keyboard.press('4');
    await page.keyboard.press('Enter');
    await item.locator('[data-testid="feedback-widget"][data-state="rated"][data-rating="4"]').waitFor();

    await page.goto(`${server.url}/#/`);
    await page.reload();
    const reloaded = page.locator(`[data-testid="task-item"][data-task-id="${taskId}"]`);
    await reloaded.locator('[data-testid="feedback-widget"][data-state="rated"][data-rating="4"]').waitFor();
    expect(await reloaded.getByTestId('feedback-widget').textContent()).toContain('You rated this');

    await reloaded.getByTestId('feedback-change').click();
    await reloaded.getByTestId('feedback-star-input-2').focus();
    await page.keyboard.press('2');
    await page.keyboard.press('Enter');
    await reloaded.locator('[data-testid="feedback-widget"][data-state="rated"][data-rating="2"]').waitFor();
    await page.reload();
    await page
      .locator(
        `[data-testid="task-item"][data-task-id="${taskId}"] [data-testid="feedback-widget"][data-rating="2"]`,
      )
      .waitFor();
    const task = await apiGet<{ score: { user_rating: number } }>(server, `/tasks/${taskId}`);
    expect(task.score.user_rating).toBe(2);
  });

  it('keeps filters and the search in the URL, and they survive a reload', async () => {
    await openView(page, server, '#/', '[data-testid="task-item"]');
    await page.getByTestId('filter-agent').selectOption('agent_a');
    await expect.poll(() => page.evaluate<string>('window.location.hash')).toContain('agent=agent_a');
    await page.getByTestId('filter-failed').check();
    await expect.poll(() => page.evaluate<string>('window.location.hash')).toContain('status=failed');
    await page.reload();
    await page.locator('[data-testid="connection"].connection-open').waitFor();
    // The agent list arrives after the page: the select shows agent_a once its option exists.
    await expect.poll(() => page.getByTestId('filter-agent').inputValue()).toBe('agent_a');
    expect(await page.getByTestId('filter-failed').isChecked()).toBe(true);
    const items = page.getByTestId('task-item');
    const expected = (
      await apiGet<{ tasks: unknown[] }>(server, '/tasks?limit=50&agent_id=agent_a&status=failed')
    ).tasks.length;
    await expect.poll(() => items.count()).toBe(expected);
    if (expected > 0) {
      const statuses = await items.evaluateAll((nodes) =>
        nodes.map((node) => node.getAttribute('data-status')),
      );
      expect(new Set(statuses)).toEqual(new Set(['failed']));
    } else {
      await page.getByTestId('stream-no-match').waitFor();
    }

    await page.getByTestId('filter-clear').click();
    await page.getByTestId('filter-search').fill('markdown report');
    await page.getByTestId('filter-search').press('Enter');
    await expect.poll(() => page.evaluate<string>('window.location.hash')).toContain('q=markdown+report');
    await page.reload();
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.first().getAttribute('data-task-id')).toBe(markdownTaskId);
    expect(await page.getByTestId('filter-search').inputValue()).toBe('markdown report');
    // The stream's export carries the search too: it downloads what the stream shows.
    const exportHref = await page
      .locator('[data-testid="export-tasks"] a[data-format="json"]')
      .getAttribute('href');
    expect(exportHref).toContain('q=markdown+report');
    const exported = (await (await fetch(`${server.url}${exportHref}`)).json()) as {
      rows: { task_id: string }[];
    };
    expect(exported.rows.map((row) => row.task_id)).toEqual([markdownTaskId]);
  });

  it('renders tables and nested lists, and keeps links and HTML in a result safe', async () => {
    await openView(page, server, '#/?q=markdown', `[data-task-id="${markdownTaskId}"] .markdown table`);
    const result = page.locator(`[data-task-id="${markdownTaskId}"] .markdown`);
    expect(await result.locator('table td').allTextContents()).toEqual(['bob', '72']);
    expect(await result.locator('ol > li ul > li').allTextContents()).toEqual([
      'gather data',
      'check sources',
    ]);
    const links = await result.locator('a').evaluateAll((nodes) =>
      nodes.map((node) => ({
        href: node.getAttribute('href'),
        target: node.getAttribute('target'),
        rel: node.getAttribute('rel'),
      })),
    );
    expect(links).toEqual([
      { href: 'https://example.com/paper', target: '_blank', rel: 'noopener noreferrer' },
      { href: '//evil.example/login', target: '_blank', rel: 'noopener noreferrer' },
    ]);
    expect(await result.locator('img, script').count()).toBe(0);
    expect(await result.textContent()).toContain('<script>');
    expect(await page.evaluate<boolean | undefined>('window.__pwned')).toBeUndefined();
  });

  it('explains leaderboard ranks and ties, shows cost per task and compares two agents', async () => {
    await openView(page, server, '#/?tab=leaderboard', '[data-testid="leaderboard-row"]');
    // The leaderboard downloads as CSV, for this user.
    const csvHref = await page
      .locator('[data-testid="export-leaderboard"] a[data-format="csv"]')
      .getAttribute('href');
    expect(csvHref).toBe(`/api/export/leaderboard?format=csv&user_id=${DEFAULT_USER_ID}`);
    const csv = await fetch(`${server.url}${csvHref}`);
    expect(csv.status).toBe(200);
    expect((await csv.text()).split('\n')[0]).toContain('agent_id');
    const board = await apiGet<{
      rankings: { agent_id: string; rank: number | null; avg_cost_per_task: number | null }[];
    }>(server, '/agents/leaderboard');
    for (const ranking of board.rankings) {
      const row = page.locator(`[data-testid="leaderboard-row"][data-agent="${ranking.agent_id}"]`);
      const rankText = (await row.getByTestId('leaderboard-rank').textContent()) ?? '';
      const sharing = board.rankings.filter((other) => other.rank === ranking.rank).length;
      if (ranking.rank === null) expect(rankText).toContain('Unranked');
      else if (sharing > 1) expect(rankText).toMatch(/^tied \d+(st|nd|rd|th)$/);
      else expect(rankText).toMatch(/^\d+(st|nd|rd|th)$/);
    }
    expect(await page.getByTestId('rank-legend').textContent()).toContain('low end');
    expect(await page.locator('caption').first().textContent()).toContain(
      'lower bound of their score interval',
    );
    expect(await page.getByTestId('score-interval-label').first().textContent()).toMatch(/^likely \d+–\d+$/);

    await page.getByTestId('sort-cost').click();
    const costs = await page.getByTestId('leaderboard-cost').allTextContents();
    // The cost itself, not the "n of m tasks unpriced" note beside it.
    const numbers = costs.flatMap((text) => {
      const match = /\$([\d.]+)/.exec(text);
      return match?.[1] ? [Number(match[1])] : [];
    });
    expect(numbers.length).toBeGreaterThan(1);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));

    const toggles = page.getByTestId('leaderboard-compare-toggle');
    await toggles.nth(0).check();
    await toggles.nth(1).check();
    const compare = page.getByTestId('leaderboard-compare');
    await compare.waitFor();
    expect(await compare.locator('tbody tr').count()).toBeGreaterThanOrEqual(8);
    expect(await compare.textContent()).toContain('Cost per task');
  });

  it('draws the agent charts over the chosen range, cost against quality over every task of it', async () => {
    // A rated, priced task of 40 days ago: "all" must reach it (the server's default window is 30 days).
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const old = await fetch(`${server.url}/api/tasks/completed?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        agent_id: 'agent_a',
        command: 'research the tides of last season',
        result: 'Spring tides were highest in March.',
        model: 'gpt-4o-mini',
        prompt_tokens: 900,
        completion_tokens: 300,
        user_rating: 5,
        started_at: daysAgo(40),
        completed_at: daysAgo(40),
      }),
    });
    expect(old.status).toBe(201);
    await openView(page, server, '#/agents/agent_a?range=all', '[data-testid="history-row"]');
    await page.locator('[data-testid="chart-cost-quality"] svg').waitFor();
    const countPlotted = async (window: string) =>
      (
        await apiGet<{ cost_quality: { tasks: number }[] }>(server, `/agents/agent_a/trend?window=${window}`)
      ).cost_quality.reduce((sum, cell) => sum + cell.tasks, 0);
    const total = await countPlotted('all');
    expect(total).toBe((await countPlotted('30d')) + 1);
    const performance = await apiGet<{
      tasks: { status: string; estimated_cost: number | null; overall_score: number | null }[];
    }>(server, '/agents/agent_a/performance?limit=200&window=all');
    const plotted = performance.tasks.filter(
      (task) => task.status === 'completed' && task.estimated_cost !== null && task.overall_score !== null,
    );
    // More than one history page (20), all of them plotted.
    expect(plotted.length).toBeGreaterThan(20);
    expect(total).toBe(plotted.length);
    expect(await page.getByTestId('cost-quality-total').textContent()).toContain(`${total} tasks`);
    await page.getByTestId('range-24h').check({ force: true });
    await expect.poll(() => page.evaluate<string>('window.location.hash')).toContain('range=24h');
    await page.reload();
    expect(await page.getByTestId('range-24h').isChecked()).toBe(true);
    await page.locator('[data-testid="chart-trend"]').waitFor();
  });

  it('follows the system colour scheme, and the toggle choice survives a reload', async () => {
    const dark = await browser.newContext({ viewport: WIDE, colorScheme: 'dark' });
    const darkPage = await dark.newPage();
    darkPage.setDefaultTimeout(WAIT_MS);
    await openView(darkPage, server, '#/', '[data-testid="task-item"]');
    expect(await darkPage.evaluate<string | undefined>('document.documentElement.dataset.theme')).toBe(
      'dark',
    );
    const darkBackground = await darkPage.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    await darkPage.getByTestId('theme-toggle').click();
    expect(await darkPage.evaluate<string | undefined>('document.documentElement.dataset.theme')).toBe(
      'light',
    );
    const lightBackground = await darkPage.evaluate<string>(
      'getComputedStyle(document.body).backgroundColor',
    );
    expect(lightBackground).not.toBe(darkBackground);
    await darkPage.reload();
    await darkPage.getByTestId('theme-toggle').waitFor();
    expect(await darkPage.evaluate<string | undefined>('document.documentElement.dataset.theme')).toBe(
      'light',
    );
    await dark.close();
  });

  it('has a skip link and a visible focus ring on the controls', async () => {
    await openView(page, server, '#/', '[data-testid="task-item"]');
    const skip = page.getByTestId('skip-main');
    // Out of sight until focused, then on screen.
    expect(await skip.evaluate((node) => node.getBoundingClientRect().bottom <= 0)).toBe(true);
    await skip.focus();
    expect(await skip.evaluate((node) => node.getBoundingClientRect().top >= 0)).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('main');
    expect(await page.evaluate<string>('window.location.hash')).toBe('#/');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate<{ width: string; outline: string }>(
      '({ width: getComputedStyle(document.activeElement).outlineWidth, outline: getComputedStyle(document.activeElement).outlineStyle })',
    );
    expect(outline.outline).toBe('solid');
    expect(outline.width).toBe('3px');
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`fits every view in 390 px and 1366 px, passes axe and is photographed (${scheme})`, async () => {
      const themed = await browser.newContext({ viewport: WIDE, colorScheme: scheme });
      const themedPage = await themed.newPage();
      themedPage.setDefaultTimeout(WAIT_MS);
      // Every view is checked before failing, so one run names every problem.
      const problems: string[] = [];
      try {
        for (const viewport of [WIDE, NARROW]) {
          await themedPage.setViewportSize(viewport);
          for (const view of VIEWS) {
            await openView(themedPage, server, view.hash, view.ready);
            expect(
              await themedPage.evaluate<string | undefined>('document.documentElement.dataset.theme'),
            ).toBe(scheme);
            const width = await pageWidth(themedPage);
            if (width > viewport.width)
              problems.push(`${view.name} at ${viewport.width} px is ${width} px wide`);
            const violations = await findSeriousViolations(themedPage);
            if (violations.length > 0) {
              problems.push(`${view.name} ${viewport.width} ${scheme}:\n${describeViolations(violations)}`);
            }
            await themedPage.screenshot({
              path: path.join(SCREENSHOTS, `${view.name}-${viewport.width}-${scheme}.png`),
              fullPage: true,
            });
          }
        }
        expect(problems.join('\n')).toBe('');
      } finally {
        await themed.close();
      }
    }, 180_000);
  }
});
