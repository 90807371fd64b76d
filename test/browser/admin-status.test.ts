import fs from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/identity/credentials.js';
import { insertAccount, upsertMember } from '../../src/identity/identity.queries.js';
import { DEFAULT_PROJECT_ID, USER } from '../support/app.js';
import { launchChromium } from '../support/chromium.js';
import { type LiveServer, startLiveServer } from '../support/live-server.js';

/**
 * The status page, the export menu and the admin pages in Debian's Chromium, each mounted alone by a
 * minimal harness (the shell that mounts them is wired elsewhere): the harness is built with Vite from
 * the components' own sources and served at the live server's origin, so their requests reach the real
 * API of a real server with its worker.
 */

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const HARNESS_DIR = path.join(ARTIFACTS, 'admin-status-harness');
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const WAIT_MS = 20_000;
const PASSWORD = 'correct horse battery staple';

const HARNESS_ENTRY = `
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import '${ROOT}/web/src/styles.css';
import { AdminPage } from '${ROOT}/web/src/features/admin/admin-page.tsx';
import { ExportMenu } from '${ROOT}/web/src/features/export/export-menu.tsx';
import { StatusPage } from '${ROOT}/web/src/features/status/status-page.tsx';

const search = new URLSearchParams(location.search);
const connection = { userId: search.get('user_id'), project: search.get('project') };
const view = search.get('view');
const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
const root = createRoot(document.getElementById('root'));
root.render(
  <QueryClientProvider client={client}>
    <main id="main">
      <h1 className="visually-hidden">Merit harness</h1>
      {view === 'status' ? <StatusPage connection={connection} /> : null}
      {view === 'admin' ? <AdminPage connection={connection} onOpenKeys={() => { document.title = 'keys'; }} /> : null}
      {view === 'export' ? (
        <ExportMenu kind="tasks" params={{ user_id: connection.userId, category: 'research', until: '' }} />
      ) : null}
    </main>
  </QueryClientProvider>,
);
`;

let harness: Promise<Map<string, { body: Buffer; type: string }>> | undefined;

/** Built once for the file: both suites serve the same bundle. */
function buildHarnessOnce(): Promise<Map<string, { body: Buffer; type: string }>> {
  harness ??= buildHarness();
  return harness;
}

async function buildHarness(): Promise<Map<string, { body: Buffer; type: string }>> {
  fs.rmSync(HARNESS_DIR, { recursive: true, force: true });
  fs.mkdirSync(HARNESS_DIR, { recursive: true });
  fs.writeFileSync(path.join(HARNESS_DIR, 'main.tsx'), HARNESS_ENTRY);
  fs.writeFileSync(
    path.join(HARNESS_DIR, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Merit harness</title></head><body><div id="root"></div><script type="module" src="./main.tsx"></script></body></html>',
  );
  await build({
    root: HARNESS_DIR,
    base: '/__harness/',
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
    files.set(`/__harness/${path.relative(dist, file)}`, { body: fs.readFileSync(file), type });
  }
  return files;
}

/** A page whose /__harness/ requests are answered with the built harness, the rest by the live server. */
async function openHarness(
  browser: Browser,
  server: LiveServer,
  files: Map<string, { body: Buffer; type: string }>,
  width: number,
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.route(`${server.url}/__harness/**`, async (route) => {
    const file = files.get(new URL(route.request().url()).pathname);
    if (!file) return route.fulfill({ status: 404, body: 'not in the harness' });
    return route.fulfill({ status: 200, body: file.body, contentType: file.type });
  });
  return page;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/** What the functions run in the page read of it (this file compiles without the DOM's types). */
type PageGlobals = {
  axe?: { run: (context: unknown) => Promise<{ violations: AxeViolation[] }> };
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
};

async function findSeriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const globals = globalThis as unknown as PageGlobals;
    return (await (globals.axe as NonNullable<PageGlobals['axe']>).run(globals.document)).violations;
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) => `${violation.id} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
}

async function expectNoHorizontalScroll(page: Page): Promise<void> {
  const widths = await page.evaluate(() => {
    const root = (globalThis as unknown as PageGlobals).document.documentElement;
    return { scroll: root.scrollWidth, client: root.clientWidth };
  });
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
}

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('status, export and admin pages in Chromium (local mode)', () => {
  let browser: Browser;
  let server: LiveServer;
  let files: Map<string, { body: Buffer; type: string }>;

  beforeAll(async () => {
    // One after the other: a build beside a starting server and worker on 2 cores slows both past timeouts.
    files = await buildHarnessOnce();
    server = await startLiveServer();
    browser = await launchChromium();
    const created = await server.services.app.request(`/api/tasks?user_id=${USER}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        agent_id: 'agent_a',
        command: '=SUM(1,2) research tides',
        objective_category: 'research',
      }),
    });
    const task = (await created.json()) as { id: string };
    await server.services.app.request(`/api/tasks/${task.id}/complete?user_id=${USER}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        result: 'done',
        model: 'mystery-model-9',
        prompt_tokens: 10,
        completion_tokens: 5,
      }),
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const width of [1366, 390]) {
    it(`shows the status page at ${width} px: database, running worker, offline LLM, backlog`, async () => {
      const page = await openHarness(browser, server, files, width);
      await page.goto(`${server.url}/__harness/index.html?view=status&user_id=${USER}`);
      await expect
        .poll(() => page.getByTestId('status-database').textContent(), { timeout: WAIT_MS })
        .toContain('reachable');
      await expect
        .poll(() => page.getByTestId('status-worker').textContent(), { timeout: WAIT_MS })
        .toMatch(/running \(\d+ workers?\)/);
      expect(await page.getByTestId('status-llm').textContent()).toContain(
        'offline: deterministic evaluators, simulated team',
      );
      expect(await page.getByTestId('status-evaluation').textContent()).toContain(
        'Tasks waiting for evaluation',
      );
      expect(await page.getByRole('heading', { name: /Status/ }).textContent()).toMatch(
        /Merit \d+\.\d+\.\d+/,
      );
      await expectNoHorizontalScroll(page);
      expect(await findSeriousViolations(page)).toEqual([]);
      await screenshot(page, `status-page-${width}`);
      await page.context().close();
    }, 60_000);
  }

  it('downloads the task history from the export menu as CSV that carries the filters', async () => {
    const page = await openHarness(browser, server, files, 1366);
    await page.goto(`${server.url}/__harness/index.html?view=export&user_id=${USER}`);
    const link = page.getByRole('link', { name: 'CSV' });
    expect(await link.getAttribute('href')).toBe(
      `/api/export/tasks?format=csv&user_id=${USER}&category=research`,
    );
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^merit-tasks-\d{4}-\d{2}-\d{2}\.csv$/);
    const text = fs.readFileSync((await download.path()) as string, 'utf8');
    const [header, row] = text.split('\r\n');
    expect(header?.split(',')[0]).toBe('task_id');
    expect(row).toContain(`"'=SUM(1,2) research tides"`);
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'JSON' }).click(),
    ]);
    const document = JSON.parse(fs.readFileSync((await json.path()) as string, 'utf8'));
    expect(document.filters).toMatchObject({ category: 'research' });
    expect(document.rows[0].estimated_cost_usd).toBeNull();
    await page.context().close();
  }, 60_000);

  for (const width of [1366, 390]) {
    it(`walks the admin tabs at ${width} px as local mode's owner`, async () => {
      const page = await openHarness(browser, server, files, width);
      await page.goto(`${server.url}/__harness/index.html?view=admin&user_id=${USER}`);
      await expect
        .poll(() => page.getByTestId('admin-panel-members').textContent(), { timeout: WAIT_MS })
        .toContain('Local mode has no accounts');

      await page.getByTestId('admin-tab-members').focus();
      await page.keyboard.press('ArrowRight');
      expect(await page.getByTestId('admin-tab-keys').getAttribute('aria-selected')).toBe('true');
      await page.getByTestId('admin-open-keys').click();
      expect(await page.title()).toBe('keys');

      await page.getByTestId('admin-tab-categories').click();
      await page.getByTestId('categories-table').waitFor({ timeout: WAIT_MS });
      // Built-in categories are read-only in local mode: no edit control on them.
      expect(await page.getByTestId('category-research').getByRole('button').count()).toBe(0);
      const name = `legal_${width}`;
      await page.getByLabel('Name (lowercase, e.g. legal_research)').fill(name);
      await page.getByTestId('category-form').getByLabel('Description').fill('Contracts and clauses');
      await page
        .getByTestId('category-form')
        .getByLabel('Judge criteria, one a line')
        .fill('cites clauses\nfinds risks');
      await page.getByRole('button', { name: 'Create category' }).click();
      await page.getByTestId(`category-${name}`).waitFor({ timeout: WAIT_MS });
      await page.getByTestId(`category-${name}`).getByRole('button', { name: /Edit/ }).click();
      await page.getByTestId('category-editor').getByLabel('Description').fill('Contract review');
      await page.getByTestId('category-editor').getByRole('button', { name: 'Save' }).click();
      // The editor closes once the change is saved and the list read again.
      await page.getByTestId('category-editor').waitFor({ state: 'detached', timeout: WAIT_MS });
      expect(await page.getByTestId(`category-${name}`).textContent()).toContain('Contract review');
      const stored = await server.database.pool.query(
        'SELECT description, evaluation_criteria FROM objective_templates WHERE project_id = $1 AND category = $2',
        [DEFAULT_PROJECT_ID, name],
      );
      expect(stored.rows).toEqual([
        { description: 'Contract review', evaluation_criteria: ['cites clauses', 'finds risks'] },
      ]);
      await expectNoHorizontalScroll(page);
      expect(await findSeriousViolations(page)).toEqual([]);
      await screenshot(page, `admin-categories-${width}`);

      await page.getByTestId('admin-tab-agents').click();
      await page.getByTestId('agents-table').waitFor({ timeout: WAIT_MS });
      expect(await page.getByTestId('agent-agent_a').textContent()).toContain('active');

      await page.getByTestId('admin-tab-prices').click();
      await expect
        .poll(() => page.getByTestId('unpriced-models').textContent(), { timeout: WAIT_MS })
        .toContain('mystery-model-9');
      await expectNoHorizontalScroll(page);
      await screenshot(page, `admin-prices-${width}`);

      await page.getByTestId('admin-tab-reviewers').click();
      await page.getByTestId('reviewers-table').waitFor({ timeout: WAIT_MS });
      expect(await findSeriousViolations(page)).toEqual([]);
      await page.context().close();
    }, 90_000);
  }
});

describe('admin pages for a viewer (MERIT_AUTH=required)', () => {
  let browser: Browser;
  let server: LiveServer;
  let files: Map<string, { body: Buffer; type: string }>;

  beforeAll(async () => {
    files = await buildHarnessOnce();
    server = await startLiveServer({ MERIT_AUTH: 'required' });
    browser = await launchChromium();
    const viewer = await insertAccount(server.services.ctx.db, {
      email: 'viewer@example.com',
      passwordHash: await hashPassword(PASSWORD),
    });
    await upsertMember(server.services.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
      accountId: viewer.id,
      role: 'viewer',
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('reads the settings without any control that changes them', async () => {
    const page = await openHarness(browser, server, files, 1366);
    const login = await page.request.post(`${server.url}/api/auth/login`, {
      data: { email: 'viewer@example.com', password: PASSWORD },
    });
    expect(login.status()).toBe(200);
    await page.goto(`${server.url}/__harness/index.html?view=admin`);
    await page.getByTestId('admin-read-only').waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId('admin-panel-members').textContent()).toContain(
      "shown to the project's admins",
    );
    await page.getByTestId('admin-tab-categories').click();
    await page.getByTestId('categories-table').waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId('categories-table').getByRole('button').count()).toBe(0);
    expect(await page.getByTestId('category-form').count()).toBe(0);
    await page.getByTestId('admin-tab-keys').click();
    expect(await page.getByTestId('admin-open-keys').count()).toBe(0);
    await page.getByTestId('admin-tab-prices').click();
    await page.getByTestId('models-in-use-table').waitFor({ timeout: WAIT_MS });
    await screenshot(page, 'admin-viewer-1366');
    await page.context().close();
  }, 60_000);
});
