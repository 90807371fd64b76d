import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { prepareDatabase } from '../src/db/bootstrap.js';
import { connectDatabase, type DatabaseHandle } from '../src/db/connect.js';
import { startEmbeddedServer } from '../src/db/embedded-server.js';
import { createServices, type MeritServices } from '../src/server.js';

export interface BenchEnvironment {
  handle: DatabaseHandle;
  services: MeritServices;
  baseUrl: string;
  label: string;
  close(): Promise<void>;
}

/**
 * A fresh database (on DATABASE_URL's server, else a throw-away embedded server) with Merit's schema,
 * and the real HTTP server on a loopback port.
 */
export async function openBenchEnvironment(
  name: string,
  options: { reuse?: boolean } = {},
): Promise<BenchEnvironment> {
  let dataDir: string | undefined;
  let stopServer = async () => {};
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-bench-'));
    await fs.chmod(dataDir, 0o755);
    const embedded = await startEmbeddedServer({ dataDir, preferredPort: 54340 });
    adminUrl = embedded.url;
    stopServer = () => embedded.stop();
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  // `reuse` keeps what an earlier run seeded (migrations newer than it still run below).
  if (!(options.reuse && exists)) {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  }
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = connectDatabase(url.toString(), { maxConnections: 40, statementTimeoutMs: 0 });
  await prepareDatabase(handle);
  const config = loadConfig({
    MERIT_DATA_DIR: '/nonexistent',
    MERIT_WORKER: 'false',
    MERIT_EVALUATION: process.env.MERIT_EVALUATION ?? 'true',
    MERIT_MAX_BODY_BYTES: String(64 * 1024 * 1024),
  });
  const services = createServices(config, { handle, kind: 'external', label: name });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: services.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    handle,
    services,
    baseUrl: `http://127.0.0.1:${port}`,
    label: `${url.hostname}:${url.port}/${name}`,
    async close() {
      server.close();
      await handle.close();
      await stopServer();
      if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `total` operations with `concurrency` workers; returns operations per second. */
export async function measureRate(
  total: number,
  concurrency: number,
  operation: (index: number) => Promise<void>,
  onProgress?: (done: number) => void,
): Promise<number> {
  let next = 0;
  let done = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const index = next++;
        if (index >= total) return;
        await operation(index);
        done++;
        if (done % 100 === 0) onProgress?.(done);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return total / seconds;
}

export function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** The q-quantile (0-1) of unsorted values, interpolated between the two nearest ranks. */
export function computeQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  const position = (sorted.length - 1) * q;
  const below = sorted[Math.floor(position)] ?? 0;
  const above = sorted[Math.ceil(position)] ?? below;
  return below + (above - below) * (position - Math.floor(position));
}

export function computeMean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** A horizontal ASCII bar chart of labelled values. */
export function printBarChart(
  title: string,
  rows: readonly { label: string; value: number; unit: string }[],
): void {
  const max = Math.max(...rows.map((row) => row.value), 1e-9);
  const width = 40;
  const labelWidth = Math.max(...rows.map((row) => row.label.length));
  console.log(`\n${title}`);
  for (const row of rows) {
    const bar = '█'.repeat(Math.max(1, Math.round((row.value / max) * width)));
    console.log(
      `  ${row.label.padEnd(labelWidth)} ${bar} ${row.value.toFixed(row.value < 10 ? 2 : 0)} ${row.unit}`,
    );
  }
}
