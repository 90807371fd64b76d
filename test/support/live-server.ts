import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { createServices, type MeritServices } from '../../src/server.js';
import { startWorker } from '../../src/worker.js';
import { testConfig } from './app.js';
import { createTestDatabase, type TestDatabase } from './database.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const WEB_INDEX = path.join(ROOT, 'dist', 'web', 'index.html');

export interface LiveServer {
  readonly url: string;
  readonly services: MeritServices;
  readonly database: TestDatabase;
  stop(): Promise<void>;
}

/**
 * The real thing, in this process: a fresh database, the HTTP app on a random port and the background
 * worker, so that Mission Control's agents really run.
 */
export async function startLiveServer(env: Record<string, string> = {}): Promise<LiveServer> {
  const database = await createTestDatabase('embedded');
  const config = testConfig({ MERIT_WORKER_CONCURRENCY: '4', ...env });
  const services = createServices(config, { handle: database, kind: 'external', label: database.name });
  const worker = await startWorker(config, database, services.ctx);
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: services.app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    ) as Server;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    database,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await worker.stop();
      await database.drop();
    },
  };
}

/** The newest modification time of the files under a folder. */
function findNewestMtime(folder: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds the web app into dist/web unless the build there is newer than every source file. */
export function ensureWebAppBuilt(): void {
  const sourceMtime = Math.max(
    findNewestMtime(path.join(ROOT, 'web', 'src')),
    fs.statSync(path.join(ROOT, 'web', 'index.html')).mtimeMs,
    fs.statSync(path.join(ROOT, 'web', 'vite.config.ts')).mtimeMs,
  );
  if (fs.existsSync(WEB_INDEX) && fs.statSync(WEB_INDEX).mtimeMs > sourceMtime) return;
  execFileSync(
    path.join(ROOT, 'node_modules', '.bin', 'vite'),
    ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
