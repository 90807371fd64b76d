import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { launchChromium } from '../support/chromium.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const WAIT_MS = 20_000;
const RATINGS = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 2, 4];

interface CalibrationBody {
  evaluators: {
    evaluator: string;
    n: number;
    spearman: { value: number; lower: number; upper: number } | null;
    weight: number;
    reason: string | null;
  }[];
}

describe('evaluator calibration in Mission Control (Chromium)', () => {
  let browser: Browser;
  let server: LiveServer;
  let page: Page;

  async function api(method: string, path: string, body?: unknown) {
    const response = await fetch(`${server.url}/api${path}?user_id=${DEFAULT_USER_ID}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({ MERIT_SIMULATION_SPEED: '100000' });
    // Twelve finished tasks the user rates; the worker scores them with the offline evaluator.
    for (const [k, rating] of RATINGS.entries()) {
      const created = await api('POST', '/tasks', {
        agent_id: 'agent_a',
        command: `research quantum error correction, part ${k}`,
        objective_category: 'research',
      });
      expect(created.status).toBe(201);
      const words = 'quantum error correction research surface codes qubits '.repeat(rating * 8);
      const completed = await api('POST', `/tasks/${created.body.id}/complete`, {
        result: `## Part ${k}\n\n${words}\n\n## Summary\n\nIn summary, quantum error correction.`,
        prompt_tokens: 500,
        completion_tokens: 300,
        duration_ms: 10_000,
      });
      expect(completed.status).toBe(200);
      expect((await api('POST', `/tasks/${created.body.id}/feedback`, { user_rating: rating })).status).toBe(
        200,
      );
    }
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows each evaluator with n, its figures and intervals, and "too few tasks" where unknown', async () => {
    let body: CalibrationBody | undefined;
    await expect
      .poll(
        async () => {
          body = (await api('GET', '/evaluators/calibration')).body as CalibrationBody;
          return body.evaluators.find((entry) => entry.evaluator === 'offline')?.n;
        },
        { timeout: WAIT_MS },
      )
      .toBe(RATINGS.length);
    const offline = body?.evaluators.find((entry) => entry.evaluator === 'offline');
    expect(offline?.spearman).not.toBeNull();

    await page.goto(server.url);
    await page.getByTestId('panel-tab-leaderboard').click();
    const table = page.getByTestId('evaluator-calibration');
    const offlineRow = table.locator('[data-testid="calibration-row"][data-evaluator="offline"]');
    await offlineRow.waitFor();
    const cells = await offlineRow.locator('th, td').allTextContents();
    const spearman = offline?.spearman;
    expect(cells).toEqual([
      'Offline evaluator',
      '12',
      `${spearman?.value.toFixed(2)} (${spearman?.lower.toFixed(2)} to ${spearman?.upper.toFixed(2)})`,
      expect.stringMatching(/^-?\d\.\d\d \(-?\d\.\d\d to -?\d\.\d\d\)$/),
      '1.00',
    ]);
    // No judge without an LLM: its rows say why they have no figures, never 0.
    const judgeCells = await table
      .locator('[data-testid="calibration-row"][data-evaluator="judge"]')
      .locator('th, td')
      .allTextContents();
    expect(judgeCells).toEqual(['LLM judge (mean)', '0', 'too few tasks', 'too few tasks', '1.00']);
    expect(await table.getByRole('alert').count()).toBe(0);
  });
});
