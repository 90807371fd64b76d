import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROUTE_RULES } from '../identity/permissions.js';
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

/**
 * The OpenAPI document (generated from the routes' zod schemas, with each operation's permission from
 * src/identity/permissions.ts as `x-merit-permission` and its security requirements) and a docs page
 * that works offline.
 */
export function registerDocsRoutes(app: MeritApp): void {
  let document: unknown;
  app.get('/api/openapi.json', (c) => {
    document ??= describePermissions(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'Merit API',
          version: '0.1.0',
          description: [
            "Tracks AI agents' tasks, ratings and scores, ranks agents and routes commands.",
            'Local mode (MERIT_AUTH=local, loopback only): every endpoint except health and docs takes the requesting user as `?user_id=<uuid>`.',
            'Required mode: a session cookie from `POST /api/auth/login` (writes also send `X-CSRF-Token`), or an API key as `Authorization: Bearer merit_...`.',
            'Each operation names the permission it needs in `x-merit-permission` (public, read, feedback, ingest, admin).',
          ].join(' '),
        },
      }),
    );
    return c.json(document);
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

type OpenApiDocument = ReturnType<MeritApp['getOpenAPI31Document']>;

/** Adds each operation's rule and security requirements, and the two security schemes. */
function describePermissions(document: OpenApiDocument): OpenApiDocument {
  const authenticated = [{ apiKey: [] }, { session: [] }];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = (item as Record<string, Record<string, unknown> | undefined>)[method];
      if (!operation) continue;
      const rule = ROUTE_RULES[`${method.toUpperCase()} ${path}`];
      if (rule === undefined) continue;
      operation['x-merit-permission'] = rule;
      operation.security = rule === 'public' ? [] : authenticated;
    }
  }
  document.components = {
    ...document.components,
    securitySchemes: {
      apiKey: { type: 'http', scheme: 'bearer', description: 'A project API key, `merit_<prefix>_<secret>`' },
      session: {
        type: 'apiKey',
        in: 'cookie',
        name: 'merit_session',
        description: 'Mission Control sign-in',
      },
    },
  };
  return document;
}
