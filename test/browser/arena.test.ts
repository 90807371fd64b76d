import fs from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID } from '../../src/config.js';
import { launchChromium } from '../support/chromium.js';
import { type LiveServer, startLiveServer } from '../support/live-server.js';

const WAIT_MS = 20_000;
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const HARNESS_DIR = path.join(ROOT, 'test-artifacts', 'arena-harness');

// The Arena page mounted alone (the shell that shows it at #/arena is wired elsewhere), built with Vite
// from its own sources and served at the live server's origin, so its requests reach the real API.
const HARNESS_ENTRY = `
import { createRoot } from 'react-dom/client';
import '${ROOT}/web/src/styles.css';
import { ArenaPage } from '${ROOT}/web/src/features/arena/arena-page.tsx';

const search = new URLSearchParams(location.search);
const connection = { userId: search.get('user_id'), project: null, csrfToken: null };
createRoot(document.getElementById('root')).render(
  <main id="main"><ArenaPage connection={connection} /></main>,
);
`;

async function buildHarness(): Promise<Map<string, { body: Buffer; type: string }>> {
  fs.rmSync(HARNESS_DIR, { recursive: true, force: true });
  fs.mkdirSync(HARNESS_DIR, { recursive: true });
  fs.writeFileSync(path.join(HARNESS_DIR, 'main.tsx'), HARNESS_ENTRY);
  fs.writeFileSync(
    path.join(HARNESS_DIR, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Arena harness</title></head><body><div id="root"></div><script type="module" src="./main.tsx"></script></body></html>',
  );
  await build({
    root: HARNESS_DIR,
    base: '/__arena/',
    configFile: false,
    logLevel: 'warn',
    plugins: [react()],
    build: { outDir: path.join(HARNESS_DIR, 'dist'), emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  });
  const files = new Map<string, { body: Buffer; type: string }>();
  const dist = path.join(HARNESS_DIR, 'dist');
  for (const entry of fs.readdirSync(dist, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const type = file.endsWith('.js')
      ? 'text/javascript'
      : file.endsWith('.css')
        ? 'text/css'
        : file.endsWith('.html')
          ? 'text/html'
          : 'application/octet-stream';
    files.set(`/__arena/${path.relative(dist, file)}`, { body: fs.readFileSync(file), type });
  }
  return files;
}

/** Mission Control's Arena page: a blind battle, a vote that reveals the names, the leaderboard. */
describe('a blind battle in the Arena (Chromium)', () => {
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
    const files = await buildHarness();
    browser = await launchChromium();
    server = await startLiveServer({ MERIT_SIMULATION_SPEED: '100000', MERIT_SIMULATION_SEED: '42' });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    await page.route(`${server.url}/__arena/**`, async (route) => {
      const file = files.get(new URL(route.request().url()).pathname);
      if (!file) return route.fulfill({ status: 404, body: 'not in the harness' });
      return route.fulfill({ status: 200, body: file.body, contentType: file.type });
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows two answers as A and B without names, takes the vote, then reveals who wrote which', async () => {
    await page.goto(`${server.url}/__arena/index.html?user_id=${DEFAULT_USER_ID}`);
    await page.getByTestId('arena-page').waitFor();
    await expect.poll(() => page.getByTestId('arena-empty').isVisible(), { timeout: WAIT_MS }).toBe(true);

    await page.getByTestId('arena-command').fill('research the history of tidal power');
    await page.getByTestId('arena-agent-1').selectOption('agent_a');
    await page.getByTestId('arena-agent-2').selectOption('agent_c');
    await page.getByTestId('arena-compare').click();

    const battle = page.getByTestId('arena-battle');
    await battle.waitFor();
    await expect.poll(() => page.getByTestId('arena-vote-A').isEnabled(), { timeout: WAIT_MS }).toBe(true);
    const answerA = page.getByTestId('arena-answer-A');
    const answerB = page.getByTestId('arena-answer-B');
    expect(await answerA.innerText()).toContain('Answer A');
    expect(await answerB.innerText()).toContain('Answer B');
    // Blind: neither the answers' frame nor the page names the two agents before the vote.
    const before = await battle.innerText();
    expect(before).not.toMatch(/@bob|@rex|agent_a|agent_c/);
    expect(await page.getByTestId('arena-revealed-A').count()).toBe(0);

    await page.getByTestId('arena-vote-A').click();
    const verdict = page.getByTestId('arena-verdict');
    await verdict.waitFor();
    const revealedA = await page.getByTestId('arena-revealed-A').innerText();
    const revealedB = await page.getByTestId('arena-revealed-B').innerText();
    expect([revealedA, revealedB].map((text) => text.split(' ')[0]).sort()).toEqual(['@bob', '@rex']);
    expect(await verdict.innerText()).toContain('You voted A is better');

    // The vote is a battle: the A agent won it, and the leaderboard shows both with intervals.
    const comparisons = await server.services.ctx.db.selectFrom('arena_comparisons').selectAll().execute();
    expect(comparisons).toHaveLength(1);
    expect(comparisons[0]?.vote).toBe('A');
    const board = await api('GET', '/arena/leaderboard');
    expect(board.body.total_battles).toBe(1);
    expect(board.body.ratings[0].agent_id).toBe(comparisons[0]?.agent_a);
    const winnerRow = page.getByTestId(`arena-rating-${comparisons[0]?.agent_a}`);
    await winnerRow.waitFor();
    expect(await winnerRow.innerText()).toMatch(/^1\s/);
    await page.getByTestId('arena-win-rates').waitFor();
    expect(await page.getByTestId('arena-win-rates').innerText()).toContain('100%');
  });

  it('refuses a comparison of one agent with itself in the form, sending nothing', async () => {
    await page.getByTestId('arena-command').fill('summarize the plan');
    await page.getByTestId('arena-agent-1').selectOption('agent_b');
    await page.getByTestId('arena-agent-2').selectOption('agent_b');
    await page.getByTestId('arena-compare').click();
    expect(await page.getByTestId('arena-error').innerText()).toContain('two different agents');
    const comparisons = await server.services.ctx.db.selectFrom('arena_comparisons').select('id').execute();
    expect(comparisons).toHaveLength(1);
  });
});
