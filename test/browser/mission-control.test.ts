import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { launchChromium } from '../support/chromium.js';
import { type FakeLlmServer, startFakeLlmServer } from '../support/fake-llm-server.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '..', '..', 'test-artifacts');
// Generous for a cold build and a browser start; each wait below ends as soon as its condition holds.
const WAIT_MS = 20_000;

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Types a command into Mission Control and sends it with Enter. */
async function sendCommand(page: Page, command: string): Promise<void> {
  const input = page.getByTestId('command-input');
  await input.fill(command);
  await input.press('Enter');
}

function taskItem(page: Page, command: string) {
  return page.getByTestId('task-item').filter({ hasText: command });
}

describe('Mission Control in Chromium, with the simulated team', () => {
  let browser: Browser;
  let server: LiveServer;
  let page: Page;

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({ MERIT_SIMULATION_SEED: '42', MERIT_SIMULATION_SPEED: '50' });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(server.url);
    await page.locator('[data-testid="connection"].connection-open').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('sends @bob research quantum computing through the mention list and shows the completed result', async () => {
    const input = page.getByTestId('command-input');
    await input.click();
    await page.keyboard.type('@bo');
    await page.locator('[data-testid="mention-option"][data-agent="agent_a"]').waitFor();
    await page.keyboard.press('Enter');
    await expect.poll(() => input.inputValue(), { timeout: WAIT_MS }).toBe('@bob ');
    await page.keyboard.type('research quantum computing');
    await page.keyboard.press('Enter');

    const item = taskItem(page, '@bob research quantum computing');
    await item.and(page.locator('[data-status="completed"]')).waitFor();
    expect(await item.getByTestId('task-status').textContent()).toBe('Completed');
    expect(await item.locator('article').textContent()).toContain('Simulated output by bob');
    await page.getByTestId('simulated-badge').waitFor();
    // No number before an evaluator reported; the offline evaluator's score replaces "not evaluated yet".
    await expect
      .poll(() => item.getByTestId('task-score').locator('dd').textContent(), { timeout: WAIT_MS })
      .toMatch(/^\d+$/);
    await screenshot(page, 'mission-control-completed');
  });

  it("rates the result 5 stars with the keyboard and shows bob's rating on the leaderboard", async () => {
    const widget = taskItem(page, '@bob research quantum computing').getByTestId('feedback-widget');
    await widget.getByTestId('feedback-star-input-1').focus();
    await page.keyboard.press('4');
    await page.keyboard.press('ArrowRight');
    await expect
      .poll(() => widget.getByTestId('feedback-star-input-5').isChecked(), { timeout: WAIT_MS })
      .toBe(true);
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="feedback-widget"][data-state="rated"][data-rating="5"]').waitFor();

    await page.getByTestId('panel-tab-leaderboard').click();
    const bob = page.locator('[data-testid="leaderboard-row"][data-agent="agent_a"]');
    await bob.filter({ hasText: '5.0 ★' }).waitFor();
    expect(await bob.textContent()).toContain('@bob');
    await screenshot(page, 'mission-control-rated');
  });

  it('dismisses a feedback widget with Escape', async () => {
    await sendCommand(page, '@rex analyze monthly sales data');
    const item = taskItem(page, '@rex analyze monthly sales data');
    await item.and(page.locator('[data-status="completed"]')).waitFor();
    await item.getByTestId('feedback-star-input-1').focus();
    await page.keyboard.press('Escape');
    await item.locator('[data-testid="feedback-widget"][data-state="dismissed"]').waitFor();
    await item.getByTestId('feedback-open').waitFor();
  });

  it("shows a failed task's reason", async () => {
    // With seed 42 this run of bob's fails in its 'synthesize' step.
    await sendCommand(page, '@bob research topic 51');
    const item = taskItem(page, '@bob research topic 51');
    await item.and(page.locator('[data-status="failed"]')).waitFor();
    expect(await item.getByRole('alert').textContent()).toBe(
      "Failed: Simulated failure in the 'synthesize' step: the agent could not finish the task.",
    );
  });

  it("draws bob's charts in the agent view", async () => {
    await page.getByTestId('panel-tab-leaderboard').click();
    await page
      .locator('[data-testid="leaderboard-row"][data-agent="agent_a"]')
      .getByRole('button', { name: '@bob' })
      .click();
    await page.locator('[data-testid="agent-view"][data-agent="agent_a"]').waitFor();
    await page.getByTestId('history-row').first().waitFor();
    for (const chart of ['chart-trend', 'chart-categories', 'chart-cost-quality', 'chart-nodes']) {
      await page.locator(`[data-testid="${chart}"] svg`).waitFor();
    }
    await screenshot(page, 'agent-view');
    await page.getByTestId('agent-back').click();
    await page.getByTestId('command-input').waitFor();
  });

  it("shows every score of bob's rated task with its source, the peer reviews and the reviewers", async () => {
    const taskId = await taskItem(page, '@bob research quantum computing').getAttribute('data-task-id');
    expect(taskId).toBeTruthy();
    // The live server's worker evaluates and peer-reviews the task in the background.
    await expect
      .poll(
        async () => {
          const response = await fetch(
            `${server.url}/api/tasks/${taskId}/evaluation?user_id=${DEFAULT_USER_ID}`,
          );
          const body = (await response.json()) as { evaluation: { status: string }; peer_reviews: unknown[] };
          return body.evaluation.status === 'done' && body.peer_reviews.length > 0;
        },
        { timeout: WAIT_MS },
      )
      .toBe(true);

    await page.getByTestId('panel-tab-leaderboard').click();
    await page.locator('[data-testid="reviewers"] [data-testid="reviewer-row"]').first().waitFor();
    // The reviewers' figures are the API's default window, and the panel says so.
    expect(await page.getByTestId('reviewers').textContent()).toContain('of the last 30 days');
    await page
      .locator('[data-testid="leaderboard-row"][data-agent="agent_a"]')
      .getByRole('button', { name: '@bob' })
      .click();
    const row = page.locator(`[data-testid="history-row"][data-task-id="${taskId}"]`);
    const toggle = row.getByTestId('history-details-toggle');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');

    const details = page.getByTestId('task-evaluation');
    expect(await details.getAttribute('id')).toBe(await toggle.getAttribute('aria-controls'));
    await details.locator('[data-testid="evaluation-state"][data-status="done"]').waitFor();
    await details.getByTestId('peer-review').first().waitFor();
    const relevance = details.locator('[data-testid="evaluation-score"][data-kind="relevance"]');
    expect(await relevance.getByTestId('score-source').textContent()).not.toBe('–');
    const rating = details.locator('[data-testid="evaluation-score"][data-kind="user_rating"]');
    expect(await rating.textContent()).toContain('5 ★');
    expect(await details.getByTestId('evaluator-verdict').first().textContent()).toContain('evaluator');
    expect(await details.getByTestId('reward-net').textContent()).toMatch(/^Net points: [+-]?\d+$/);
    // The agent view scrolls inside the page: a tall viewport shows the whole panel in one picture.
    await page.setViewportSize({ width: 1280, height: 2400 });
    await row.scrollIntoViewIfNeeded();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'agent-view-evaluation.png') });
    await page.setViewportSize({ width: 1280, height: 900 });

    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await page.getByTestId('task-evaluation').count()).toBe(0);
    await page.getByTestId('agent-back').click();
    await page.getByTestId('command-input').waitFor();
  });

  it("shows the scores an agent's own evaluators reported in its OpenTelemetry spans beside the judge's", async () => {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const attribute = (key: string, value: string | number) => ({
      key,
      value: typeof value === 'number' ? { doubleValue: value } : { stringValue: value },
    });
    const exported = await fetch(`${server.url}/v1/traces?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [attribute('service.name', 'research-app')] },
            scopeSpans: [
              {
                scope: { name: 'browser-test' },
                spans: [
                  {
                    traceId: '5b8efff798038103d269b633813fc60c',
                    spanId: 'eee19b7ec3c1b174',
                    name: 'invoke_agent bob',
                    kind: 1,
                    startTimeUnixNano: String(nowNs - 2_000_000_000n),
                    endTimeUnixNano: String(nowNs - 1_000_000_000n),
                    attributes: [
                      attribute('gen_ai.operation.name', 'invoke_agent'),
                      attribute('gen_ai.agent.name', 'bob'),
                      attribute('gen_ai.conversation.id', 'browser-otel-session'),
                      attribute(
                        'gen_ai.input.messages',
                        JSON.stringify([{ role: 'user', content: 'Summarise OTLP' }]),
                      ),
                      attribute(
                        'gen_ai.output.messages',
                        JSON.stringify([{ role: 'assistant', content: 'Spans.' }]),
                      ),
                    ],
                    events: [
                      {
                        name: 'gen_ai.evaluation.result',
                        timeUnixNano: String(nowNs - 1_000_000_000n),
                        attributes: [
                          attribute('gen_ai.evaluation.name', 'Groundedness'),
                          attribute('gen_ai.evaluation.score.value', 0.75),
                          attribute('gen_ai.evaluation.explanation', 'Cites its sources.'),
                        ],
                      },
                    ],
                    status: { code: 1 },
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(exported.status).toBe(200);
    const listed = await fetch(
      `${server.url}/api/tasks?session_id=browser-otel-session&user_id=${DEFAULT_USER_ID}`,
    );
    const [task] = ((await listed.json()) as { tasks: { id: string; agent_id: string }[] }).tasks;
    expect(task?.agent_id).toBe('agent_a');

    await page.goto(`${server.url}/#/agents/agent_a`);
    const row = page.locator(`[data-testid="history-row"][data-task-id="${task?.id}"]`);
    await row.getByTestId('history-details-toggle').click();
    const external = page.getByTestId('task-evaluation').getByTestId('external-scores');
    await external.waitFor();
    const text = await external.textContent();
    expect(text).toContain('Groundedness');
    expect(text).toContain('0.75');
    expect(text).toContain('Cites its sources.');
    await row.getByTestId('history-details-toggle').click();
    await page.getByTestId('agent-back').click();
    await page.getByTestId('command-input').waitFor();
  });

  it('explains why the router chose the agent of a command without a mention, and charts routing quality', async () => {
    const command = 'draft a short note about the team offsite';
    await sendCommand(page, command);
    const item = taskItem(page, command);
    // The router's Thompson draw is random, so the chosen agent (and whether its run succeeds) varies.
    const toggle = item.getByTestId('why-agent-toggle');
    await toggle.waitFor();
    const nickname = (await item.locator('.task-head .agent-link').textContent())?.slice(1);
    expect(await toggle.textContent()).toContain(`Why @${nickname}?`);
    expect(await taskItem(page, '@bob research quantum computing').getByTestId('why-agent').count()).toBe(0);

    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const explanation = item.getByTestId('why-explanation');
    await explanation.waitFor();
    expect(await explanation.textContent()).toContain(nickname);
    expect(await item.getByTestId('why-expected').textContent()).toMatch(/90% interval \d\.\d\d–\d\.\d\d/);
    expect(await item.getByTestId('why-runners-up').locator('tbody tr').count()).toBeGreaterThan(1);
    // The sentence states the figures of the table's chosen row, as the table writes them.
    const chosen = item.getByTestId('why-chosen-row');
    expect(await chosen.locator('th').textContent()).toContain(`@${nickname}`);
    const chosenScore = (await chosen.locator('td').first().textContent()) ?? '';
    expect(chosenScore).toMatch(/^\d\.\d\d$/);
    expect(await explanation.textContent()).toMatch(
      new RegExp(`^${nickname} (is expected to score ${chosenScore.replace('.', '\\.')} |was mentioned)`),
    );

    // The day's share routed to the posterior-best agent is known as soon as the decision is stored.
    await page.getByTestId('panel-tab-routing').click();
    await page.locator('[data-testid="routing-overall"]').filter({ hasText: 'Routed1' }).waitFor();
    await page.locator('[data-testid="routing-quality"] [data-testid="chart-routing-quality"] svg').waitFor();
    await screenshot(page, 'routing-quality');
  });

  it('names the known agents when a command mentions an unknown one', async () => {
    await sendCommand(page, '@zed research quantum computing');
    const error = page.getByTestId('command-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('no agent is called @zed; known agents: @alice, @bob');
  });
});

describe('Mission Control in Chromium, with an LLM provider that fails', () => {
  let browser: Browser;
  let fake: FakeLlmServer;
  let server: LiveServer;
  let page: Page;

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    fake = await startFakeLlmServer({
      fallback: (request) => {
        const messages = request.body.messages as { content: string }[];
        if (messages[0]?.content.startsWith('You classify a user command'))
          return { json: { category: 'research', confidence: 0.9 } };
        // The agent's first step waits a moment (so its progress shows), then the provider fails.
        return { delayMs: 1500, status: 500, body: 'model overloaded' };
      },
    });
    server = await startLiveServer({
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_LLM_TIMEOUT_MS: '10000',
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(server.url);
    await page.locator('[data-testid="connection"].connection-open').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await fake?.close();
  });

  it('shows the running node live, then the reason the provider failed', async () => {
    await sendCommand(page, '@bob research quantum computing');
    const item = taskItem(page, '@bob research quantum computing');
    await item.getByTestId('task-progress').filter({ hasText: 'plan' }).waitFor();
    await item.and(page.locator('[data-status="failed"]')).waitFor();
    const reason = await item.getByRole('alert').textContent();
    // The user sees what happened, never the provider's address or raw body (those go to the log).
    expect(reason).toMatch(
      /^Failed: The 'plan' step failed: LLM provider answered HTTP 500 \(provider error\); gave up after \d+ attempts$/,
    );
    expect(reason).not.toMatch(/127\.0\.0\.1|http:|model overloaded/);
    expect(await page.getByTestId('simulated-badge').count()).toBe(0);
    await screenshot(page, 'mission-control-failed');
  });
});
