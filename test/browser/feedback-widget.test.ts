import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../src/db/database.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey } from '../../src/identity/identity.queries.js';
import { DEFAULT_PROJECT_ID } from '../support/app.js';
import { launchChromium } from '../support/chromium.js';
import { type LiveServer, startLiveServer } from '../support/live-server.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const WIDGET_BUNDLE = path.join(ROOT, 'dist', 'widget', 'merit-feedback.js');
const WAIT_MS = 20_000;

/** A selector inside the widget's root (Playwright's CSS selectors pierce its open shadow root). */
function inWidget(selector: string): string {
  return `[data-testid="merit-feedback"] ${selector}`;
}

/** Builds the script-tag widget unless the bundle is newer than its sources. */
function ensureWidgetBuilt(): void {
  const sources = [
    ...fs.readdirSync(path.join(ROOT, 'web', 'widget')).map((name) => path.join(ROOT, 'web', 'widget', name)),
    path.join(ROOT, 'web', 'widget.vite.config.ts'),
    path.join(ROOT, 'web', 'src', 'features', 'feedback', 'feedback-rules.ts'),
    path.join(ROOT, 'web', 'src', 'features', 'feedback', 'feedback-form.tsx'),
  ];
  const newest = Math.max(...sources.map((file) => fs.statSync(file).mtimeMs));
  if (fs.existsSync(WIDGET_BUNDLE) && fs.statSync(WIDGET_BUNDLE).mtimeMs > newest) return;
  execFileSync(
    path.join(ROOT, 'node_modules', '.bin', 'vite'),
    ['build', '--config', 'web/widget.vite.config.ts', '--logLevel', 'warn'],
    // Vitest runs with NODE_ENV=test, which would make Vite compile JSX for React's development runtime
    // while the bundle ships React's production build (jsxDEV undefined: nothing renders).
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
}

/**
 * The script-tag feedback widget on a host page served from another loopback origin: it loads from
 * Merit's /widget/merit-feedback.js, is rated with the keyboard, and the rating lands in Merit (required
 * mode, a feedback key allowed for the host's origin). A key that does not allow the origin is refused.
 */
describe('embeddable feedback widget on a host page (Chromium)', () => {
  let browser: Browser;
  let server: LiveServer;
  let host: http.Server;
  let hostOrigin: string;
  const pages = new Map<string, string>();

  async function createKey(scopes: KeyScope[], allowedOrigins: string[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(server.services.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
      name: `widget ${scopes.join('+')}`,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins,
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  async function createFinishedTask(ingestKey: string, command: string): Promise<string> {
    const id = crypto.randomUUID();
    const response = await fetch(`${server.url}/api/tasks/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ingestKey}` },
      body: JSON.stringify({
        tasks: [{ id, agent_id: 'agent_a', command, result: 'Paris is the capital.' }],
      }),
    });
    expect(response.status).toBe(201);
    return id;
  }

  /** The task's rating as Merit's API shows it (null before one exists). */
  async function storedRating(
    taskId: string,
  ): Promise<{ user_rating: number; user_feedback: string | null } | null> {
    const readKey = await createKey(['read'], []);
    const response = await fetch(`${server.url}/api/tasks/${taskId}`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    expect(response.status).toBe(200);
    const task = (await response.json()) as {
      score: { user_rating: number | null; user_feedback: string | null } | null;
    };
    if (task.score?.user_rating == null) return null;
    return { user_rating: task.score.user_rating, user_feedback: task.score.user_feedback };
  }

  function hostPage(taskId: string, key: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host app</title></head>
<body><main><h1>Answer</h1><p>Paris is the capital.</p>
<div id="rate" data-merit-feedback data-task-id="${taskId}" data-base-url="${server.url}" data-key="${key}"></div>
</main><script src="${server.url}/widget/merit-feedback.js" defer></script></body></html>`;
  }

  async function openHostPage(name: string, html: string): Promise<Page> {
    pages.set(`/${name}`, html);
    const page = await browser.newPage();
    await page.goto(`${hostOrigin}/${name}`);
    await page
      .locator(inWidget('[data-testid="feedback-widget"][data-state="editing"]'))
      .waitFor({ timeout: WAIT_MS });
    return page;
  }

  beforeAll(async () => {
    ensureWidgetBuilt();
    server = await startLiveServer({ MERIT_AUTH: 'required', MERIT_WORKER: 'false' });
    host = http.createServer((request, response) => {
      const html = pages.get(request.url ?? '');
      response.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      response.end(html ?? 'not found');
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    hostOrigin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
    await server?.stop();
  });

  it('is rated with the keyboard on another origin and the rating lands in Merit', async () => {
    const ingestKey = await createKey(['ingest'], []);
    const feedbackKey = await createKey(['feedback'], [hostOrigin]);
    const taskId = await createFinishedTask(ingestKey, 'what is the capital of France?');
    const page = await openHostPage('allowed', hostPage(taskId, feedbackKey));

    // Keyboard only: focus the stars, press 4, Tab to the comment, type, Enter submits.
    await page.locator('input[type="radio"]').first().focus();
    await page.keyboard.press('4');
    expect(await page.locator('input[type="radio"]:checked').getAttribute('value')).toBe('4');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Short and right');
    await page.keyboard.press('Enter');

    const rated = page.locator(inWidget('[data-testid="feedback-widget"][data-state="rated"]'));
    await rated.waitFor({ timeout: WAIT_MS });
    expect(await rated.getAttribute('data-rating')).toBe('4');
    expect(await page.locator(inWidget('[data-testid="feedback-status"]')).textContent()).toContain(
      'Feedback submitted successfully',
    );
    expect(await storedRating(taskId)).toEqual({ user_rating: 4, user_feedback: 'Short and right' });
    await page.close();
  });

  it('refuses a key whose allowed origins do not include the host page', async () => {
    const ingestKey = await createKey(['ingest'], []);
    const elsewhereKey = await createKey(['feedback'], ['https://app.example.com']);
    const taskId = await createFinishedTask(ingestKey, 'what is the capital of Italy?');
    const page = await openHostPage('refused', hostPage(taskId, elsewhereKey));

    await page.locator('input[type="radio"]').first().focus();
    await page.keyboard.press('2');
    await page.keyboard.press('Enter');

    const error = page.locator(inWidget('[data-testid="feedback-error"]'));
    await error.waitFor({ timeout: WAIT_MS });
    expect(await error.textContent()).toContain('does not accept ratings from this site');
    expect(await page.locator(inWidget('[data-testid="feedback-widget"]')).getAttribute('data-state')).toBe(
      'editing',
    );
    expect(await storedRating(taskId)).toBeNull();
    await page.close();
  });

  it('dismisses with Escape and reopens', async () => {
    const ingestKey = await createKey(['ingest'], []);
    const feedbackKey = await createKey(['feedback'], [hostOrigin]);
    const taskId = await createFinishedTask(ingestKey, 'what is the capital of Spain?');
    const page = await openHostPage('dismiss', hostPage(taskId, feedbackKey));
    await page.locator('input[type="radio"]').first().focus();
    await page.keyboard.press('Escape');
    const dismissed = page.locator(inWidget('[data-testid="feedback-widget"][data-state="dismissed"]'));
    await dismissed.waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Rate this result' }).click();
    await page
      .locator(inWidget('[data-testid="feedback-widget"][data-state="editing"]'))
      .waitFor({ timeout: WAIT_MS });
    expect(await storedRating(taskId)).toBeNull();
    await page.close();
  });
});
