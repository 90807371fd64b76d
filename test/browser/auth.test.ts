import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { ensureWebAppBuilt, type LiveServer, startLiveServer } from '../support/live-server.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
// Generous for a cold build and a browser start; each wait below ends as soon as its condition holds.
const WAIT_MS = 20_000;
const OWNER_EMAIL = 'owner@example.com';
const OWNER_PASSWORD = 'correct horse battery staple';

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Runs `npx merit <args>` against the test database as an operator would, `stdin` typed in; returns its output. */
async function runMeritCli(databaseUrl: string, args: string[], stdin = ''): Promise<string> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'merit.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, MERIT_AUTH: 'required', MERIT_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`merit ${args.join(' ')} exited with ${code}:\n${output}`);
  return output;
}

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function taskItem(page: Page, command: string) {
  return page.getByTestId('task-item').filter({ hasText: command });
}

describe('Mission Control in Chromium with MERIT_AUTH=required', () => {
  let browser: Browser;
  let context: BrowserContext;
  let server: LiveServer;
  let page: Page;

  beforeAll(async () => {
    ensureWebAppBuilt();
    browser = await launchChromium();
    server = await startLiveServer({
      MERIT_AUTH: 'required',
      MERIT_SIMULATION_SEED: '42',
      MERIT_SIMULATION_SPEED: '50',
    });
    // The password comes from stdin, as `npx merit users create` reads it when not at a terminal.
    await runMeritCli(
      server.database.url,
      ['users', 'create', '--email', OWNER_EMAIL, '--owner'],
      `${OWNER_PASSWORD}\n`,
    );
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the login page, not the app, to a browser without a session', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByTestId('command-input').count()).toBe(0);
    // The API itself refuses the browser without a session (the page is not the only guard).
    const status = await page.evaluate(async () => (await fetch('/api/tasks')).status);
    expect(status).toBe(401);
  });

  it('fits the login page in 390 px without a horizontal scroll', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // The root tsconfig has no DOM types: the page is measured through an expression.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const card = await page.locator('.login-card').boundingBox();
    expect(card && card.x >= 0 && card.x + card.width <= 390).toBe(true);
    const submit = await page.getByRole('button', { name: 'Sign in' }).boundingBox();
    expect(submit && submit.x + submit.width <= 390).toBe(true);
    await screenshot(page, 'auth-login-390');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('says so when the password is wrong, and stays on the login page', async () => {
    await logIn(page, OWNER_EMAIL, 'not the password');
    const error = page.getByTestId('login-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('Wrong email or password.');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await page.getByTestId('command-input').count()).toBe(0);
  });

  it('logs in and shows the account, its project and a Log out button', async () => {
    await logIn(page, OWNER_EMAIL, OWNER_PASSWORD);
    await page.locator('[data-testid="connection"].connection-open').waitFor();
    expect(await page.getByTestId('account-email').textContent()).toContain(OWNER_EMAIL);
    expect(await page.getByTestId('account-role').textContent()).toBe('owner');
    await page.getByTestId('project-name').waitFor();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    expect(await page.getByTestId('user-id').count()).toBe(0);
    await screenshot(page, 'auth-signed-in');
    // The header wraps on a phone instead of pushing "Log out" off the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const logout = await page.getByRole('button', { name: 'Log out' }).boundingBox();
    expect(logout && logout.x + logout.width <= 390).toBe(true);
    await screenshot(page, 'auth-signed-in-390');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('runs a command and keeps its rating across a reload', async () => {
    const input = page.getByTestId('command-input');
    await input.fill('@bob research quantum computing');
    await input.press('Enter');
    const item = taskItem(page, '@bob research quantum computing');
    await item.and(page.locator('[data-status="completed"]')).waitFor();
    expect(await item.locator('article').textContent()).toContain('Simulated output by bob');

    await item.getByTestId('feedback-star-4').click();
    await item.getByTestId('feedback-text').fill('Clear and well sourced');
    await item.getByTestId('feedback-submit').click();
    await item.locator('[data-testid="feedback-widget"][data-state="rated"][data-rating="4"]').waitFor();

    // The session cookie outlives the page: after a reload the same task shows the stored rating.
    await page.reload();
    await page.locator('[data-testid="connection"].connection-open').waitFor();
    const rated = taskItem(page, '@bob research quantum computing').locator(
      '[data-testid="feedback-widget"][data-state="rated"][data-rating="4"]',
    );
    await rated.waitFor();
    expect(await rated.textContent()).toContain('Clear and well sourced');
  });

  it('creates an API key, shows its secret once, and the key works until it is revoked', async () => {
    await page.getByTestId('keys-link').click();
    await page.getByTestId('keys-page').waitFor();
    await page.getByLabel('Name').fill('CI ingest');
    await page.getByTestId('key-scope-read').check();
    await page.getByTestId('key-create').click();

    const secret = await page.getByTestId('key-secret-value').inputValue();
    expect(secret).toMatch(/^merit_/);
    expect(await page.getByTestId('key-secret').textContent()).toContain('will never show it again');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByTestId('key-copy-status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
    const row = page.getByTestId('key-row').filter({ hasText: 'CI ingest' });
    await row.waitFor();
    expect(await row.textContent()).toContain('ingest, read');
    expect(await row.getByTestId('key-status').textContent()).toBe('Active');
    await screenshot(page, 'auth-key-created');

    // The key works with the API, outside the browser.
    const withKey = () =>
      fetch(`${server.url}/api/agents`, { headers: { authorization: `Bearer ${secret}` } }).then(
        (response) => response.status,
      );
    expect(await withKey()).toBe(200);

    // Once dismissed the secret is gone from the page, and a reload does not bring it back.
    await page.getByTestId('key-secret-done').click();
    expect(await page.getByTestId('key-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await page.getByTestId('key-row').filter({ hasText: 'CI ingest' }).waitFor();
    expect(await page.content()).not.toContain(secret);

    const reloadedRow = page.getByTestId('key-row').filter({ hasText: 'CI ingest' });
    await reloadedRow.getByTestId('key-revoke').click();
    await reloadedRow.getByTestId('key-revoke-confirm').click();
    await reloadedRow.and(page.locator('[data-revoked="true"]')).waitFor();
    expect(await reloadedRow.getByTestId('key-status').textContent()).toMatch(/^Revoked/);
    expect(await withKey()).toBe(401);
  });

  it('switches to a project where the account is a viewer, which shows no command box or rating, and why', async () => {
    const url = server.database.url;
    await runMeritCli(url, ['projects', 'create', 'research-lab', '--name', 'Research Lab']);
    await runMeritCli(url, [
      'users',
      'create',
      '--email',
      OWNER_EMAIL,
      '--role',
      'viewer',
      '--project',
      'research-lab',
    ]);
    const created = await runMeritCli(url, [
      'keys',
      'create',
      '--project',
      'research-lab',
      '--scopes',
      'ingest',
    ]);
    const secret = created.trim().split('\n').at(-1) ?? '';
    const recorded = await fetch(`${server.url}/api/tasks/completed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({
        agent_id: 'agent_a',
        command: 'summarize the lab notes',
        result: 'The lab notes, summarized.',
      }),
    });
    expect(recorded.status).toBe(201);

    await page.getByTestId('keys-back').click();
    await page.reload();
    await page.locator('[data-testid="connection"].connection-open').waitFor();
    await page.getByLabel('Project').selectOption('research-lab');
    const note = page.getByTestId('read-only-note');
    await note.waitFor();
    expect(await note.textContent()).toContain('Your role is viewer');
    // The page under the selector was rebuilt for the project; the keyboard user stays on the selector.
    expect(await page.evaluate<string | undefined>('document.activeElement?.tagName')).toBe('SELECT');
    expect(await page.getByTestId('account-role').textContent()).toBe('viewer');
    expect(await page.getByTestId('command-input').count()).toBe(0);
    expect(await page.getByTestId('keys-link').count()).toBe(0);
    expect(await page.getByTestId('panel-tab-actions').count()).toBe(0);
    const item = taskItem(page, 'summarize the lab notes');
    await item.and(page.locator('[data-status="completed"]')).waitFor();
    expect(await item.getByTestId('feedback-widget').isVisible()).toBe(false);
    // Nothing of the other project shows here.
    expect(await taskItem(page, '@bob research quantum computing').count()).toBe(0);
    await screenshot(page, 'auth-viewer');

    // The chosen project stays live, and only it: a task recorded in the account's other (first) project
    // meanwhile does not show up here; the one recorded here after it does, without a reload.
    const defaultKey = await runMeritCli(url, [
      'keys',
      'create',
      '--project',
      'default',
      '--scopes',
      'ingest',
    ]);
    const recordTask = (key: string, route: string, command: string, extra: Record<string, unknown>) =>
      fetch(`${server.url}/api/tasks${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ agent_id: 'agent_a', command, ...extra }),
      }).then((response) => response.status);
    // A task that starts running is announced live to whoever watches its project.
    const otherKey = defaultKey.trim().split('\n').at(-1) ?? '';
    expect(await recordTask(otherKey, '', 'tidy the default backlog', { status: 'running' })).toBe(201);
    expect(await recordTask(secret, '/completed', 'file the lab inventory', { result: 'Filed.' })).toBe(201);
    await taskItem(page, 'file the lab inventory').waitFor();
    expect(await taskItem(page, 'tidy the default backlog').count()).toBe(0);

    // The choice is kept across a reload, and switching back gives the owner's controls again.
    await page.reload();
    await page.getByTestId('read-only-note').waitFor();
    expect(await page.getByLabel('Project').inputValue()).toBe('research-lab');
    await page.getByLabel('Project').selectOption('default');
    await page.getByTestId('command-input').waitFor();
    await taskItem(page, '@bob research quantum computing').waitFor();
    await taskItem(page, 'tidy the default backlog').waitFor();
    expect(await taskItem(page, 'summarize the lab notes').count()).toBe(0);
  }, 120_000); // Four CLI runs, each a new Node process, can take longer than the default 30 s on a busy machine.

  it('returns to the login page when the session ends on the server, and signs in again', async () => {
    // The session expires (or is signed out elsewhere): the next call the page makes answers 401.
    await server.database.pool.query('DELETE FROM sessions');
    await page.getByTestId('panel-tab-routing').click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByTestId('login-notice').textContent()).toBe(
      'Your session has ended. Sign in again.',
    );
    await logIn(page, OWNER_EMAIL, OWNER_PASSWORD);
    await page.getByTestId('command-input').waitFor();
    await taskItem(page, '@bob research quantum computing').waitFor();
  });

  it('logs out back to the login page, and the session is gone', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByTestId('login-notice').textContent()).toBe('You have logged out.');
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/tasks')).status);
    expect(status).toBe(401);
  });
});
