import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MeritApp } from './app.js';

const WIDGET_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'widget',
  'merit-feedback.js',
);

/**
 * The feedback widget's script-tag bundle (built by `npm run build` from web/widget/) at a stable URL that
 * host pages load: `<script src="https://merit.example.com/widget/merit-feedback.js" defer>`.
 */
export function registerWidgetRoutes(app: MeritApp): void {
  app.get('/widget/merit-feedback.js', async (c) => {
    const body = await fs.readFile(WIDGET_FILE).catch(() => undefined);
    if (body === undefined) {
      return c.json(
        { error: { code: 'not_found', message: 'The widget is not built yet: run npm run build' } },
        404,
      );
    }
    return c.body(body, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      // A stable URL: short caching so a new Merit version reaches host pages within minutes.
      'cache-control': 'public, max-age=300',
      // A public script: pages may load it with crossorigin (e.g. for Subresource Integrity).
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
    });
  });
}
