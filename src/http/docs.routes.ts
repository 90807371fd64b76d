import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { MeritApp } from './app.js';

const require = createRequire(import.meta.url);
const SWAGGER_ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']);

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Merit API</title>
  <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="docs"></div>
  <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#docs', deepLinking: true });
  </script>
</body>
</html>`;

/** The OpenAPI document (generated from the routes' zod schemas) and a docs page that works offline. */
export function registerDocsRoutes(app: MeritApp): void {
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Merit API',
      version: '0.1.0',
      description:
        "Tracks AI agents' tasks, ratings and scores, ranks agents and routes commands. Every endpoint except health and docs takes the requesting user as `?user_id=<uuid>`.",
    },
  });
  app.get('/api/docs', (c) => c.html(DOCS_PAGE));
  app.get('/api/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    if (!SWAGGER_ASSETS.has(file)) return c.notFound();
    const dir = (require('swagger-ui-dist') as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();
    const body = await fs.readFile(path.join(dir, file));
    const type = file.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
}
