import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { launchChromium } from '../support/chromium.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const WAIT_MS = 20_000;

/** The agent-scoped GETs of Mission Control (performance, trend, nodes) the page has made, by agent. */
function agentRequests(requests: readonly Request[], agentId: string): string[] {
  return requests
    .map((request) => new URL(request.url()).pathname)
    .filter((pathname) => pathname.startsWith(`/api/agents/${agentId}/`));
}

/**
 * Live events refetch only what they change: a `leaderboard` event naming one agent refreshes the
 * leaderboard and that agent's figures, not the figures of another agent on screen.
 */
describe('Mission Control live updates, in Chromium', () => {
  let browser: Browser;
  let server: LiveServer;
  let page: Page;
  const requests: Request[] = [];
  const taskOf: Record<string, string> = {};

  /** Waits until a second passes without a request: what loading the page fetched has been fetched. */
  async function waitForQuiet(): Promise<void> {
    let seen = -1;
    while (seen !== requests.length) {
      seen = requests.length;
      await page.waitForTimeout(1_000);
    }
  }

  async function rate(agentId: string, rating: number): Promise<void> {
    const response = await fetch(
      `${server.url}/api/tasks/${taskOf[agentId]}/feedback?user_id=${DEFAULT_USER_ID}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_rating: rating }),
      },
    );
    expect(response.status).toBe(200);
  }

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({ MERIT_EVALUATION: 'false' });
    for (const agentId of ['agent_a', 'agent_b']) {
      const response = await fetch(`${server.url}/api/tasks/completed?user_id=${DEFAULT_USER_ID}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agent_id: agentId, command: `live task of ${agentId}`, result: 'done' }),
      });
      expect(response.status).toBe(201);
      taskOf[agentId] = ((await response.json()) as { task_ids: string[] }).task_ids[0] as string;
    }
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    page.on('request', (request) => {
      if (request.method() === 'GET' && new URL(request.url()).pathname.startsWith('/api/')) {
        requests.push(request);
      }
    });
    await page.goto(`${server.url}/#/agents/agent_a?tab=leaderboard`);
    await page.locator('[data-testid="connection"].connection-open').waitFor();
    await page.locator('[data-testid="agent-view"][data-agent="agent_a"]').waitFor();
    await page.getByTestId('history-row').first().waitFor();
    await page.locator('[data-testid="leaderboard-row"][data-agent="agent_b"]').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("refreshes the leaderboard but not agent A's figures when a rating changes agent B", async () => {
    // The open agent's performance, trend and nodes have loaded and nothing more is on its way.
    await waitForQuiet();
    requests.length = 0;
    await rate('agent_b', 4);
    // The leaderboard shows agent B's new rating: the event arrived and was handled.
    await page
      .locator('[data-testid="leaderboard-row"][data-agent="agent_b"]')
      .filter({ hasText: '4.0 ★' })
      .waitFor();
    expect(requests.some((request) => new URL(request.url()).pathname === '/api/agents/leaderboard')).toBe(
      true,
    );
    expect(agentRequests(requests, 'agent_a')).toEqual([]);
  });

  it("refreshes agent A's figures when a rating changes agent A", async () => {
    requests.length = 0;
    await rate('agent_a', 2);
    await page.locator('[data-testid="history-row"]').filter({ hasText: '2 ★' }).waitFor();
    expect(agentRequests(requests, 'agent_a')).toContain('/api/agents/agent_a/performance');
    expect(agentRequests(requests, 'agent_b')).toEqual([]);
  });

  it('shows the Arena rating beside the score once the project has battles, and no Arena column before', async () => {
    const arenaHeader = page.locator('.leaderboard-table th.col-arena');
    expect(await arenaHeader.count()).toBe(0);
    const battle = (winner: string) => ({ model_a: 'agent_a', model_b: 'agent_b', winner });
    const response = await fetch(`${server.url}/api/arena/battles?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        battles: [battle('model_a'), battle('model_a'), battle('model_a'), battle('model_b'), battle('tie')],
      }),
    });
    expect(response.status).toBe(201);
    // The battles' live event brings the column in without a reload.
    const arenaOf = (agentId: string) =>
      page.locator(
        `[data-testid="leaderboard-row"][data-agent="${agentId}"] [data-testid="leaderboard-arena"]`,
      );
    await arenaOf('agent_a').and(page.locator('[data-rating]')).waitFor();
    expect(await arenaHeader.textContent()).toBe('Arena');
    const ratingA = Number(await arenaOf('agent_a').getAttribute('data-rating'));
    const ratingB = Number(await arenaOf('agent_b').getAttribute('data-rating'));
    expect(ratingA).toBeGreaterThan(ratingB);
    expect(await arenaOf('agent_a').textContent()).toContain('5 battles');
  });

  it('scrolls the leaderboard sideways inside its own panel at 1366 px, never the page', async () => {
    await page.setViewportSize({ width: 1366, height: 900 });
    const layout = await page.locator('.leaderboard-wrap').evaluate((wrap) => {
      const panel = wrap.closest('.side-panel')?.getBoundingClientRect();
      wrap.scrollLeft = 10_000;
      return {
        tableWidth: wrap.scrollWidth,
        regionWidth: wrap.clientWidth,
        scrolledBy: wrap.scrollLeft,
        regionRight: wrap.getBoundingClientRect().right,
        panelRight: panel?.right ?? Number.NaN,
        pageWidth: wrap.ownerDocument.documentElement.scrollWidth,
        viewportWidth: wrap.ownerDocument.documentElement.clientWidth,
      };
    });
    expect(layout.tableWidth).toBeGreaterThan(layout.regionWidth);
    expect(layout.scrolledBy).toBeGreaterThan(0);
    expect(layout.regionRight).toBeLessThanOrEqual(layout.panelRight + 0.5);
    expect(layout.pageWidth).toBeLessThanOrEqual(layout.viewportWidth);
  });
});
