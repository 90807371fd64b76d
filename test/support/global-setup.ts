import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { prepareDatabase } from '../../src/db/bootstrap.js';
import { canConnect, connectDatabase } from '../../src/db/connect.js';
import { type EmbeddedServer, startEmbeddedServer } from '../../src/db/embedded-server.js';

/** The machine's PostgreSQL, used in addition to the embedded server when it answers. */
const SYSTEM_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabaseServer {
  kind: 'embedded' | 'system';
  /** A URL on the server's maintenance database, for CREATE/DROP DATABASE. */
  adminUrl: string;
  /** The migrated database each test database is copied from. */
  template: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseServers: TestDatabaseServer[];
    embeddedDataDir: string;
  }
}

let embedded: EmbeddedServer | undefined;
let dataDir: string | undefined;
const cleanups: (() => Promise<void>)[] = [];

/**
 * Starts a real embedded PostgreSQL server (and uses the machine's, when reachable), migrates one
 * template database on each, and hands them to the test files; each file copies a template.
 */
export async function setup(project: TestProject): Promise<void> {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-test-'));
  // PostgreSQL runs as the postgres user when tests run as root: it must be able to enter the folder.
  await fs.chmod(dataDir, 0o755);
  embedded = await startEmbeddedServer({ dataDir, preferredPort: 54330 });
  const servers: TestDatabaseServer[] = [];
  const template = `merit_template_${process.pid}`;
  servers.push(await createTemplate('embedded', embedded.url.replace(/\/merit$/, '/postgres'), template));
  if (await canConnect({ connectionString: SYSTEM_DATABASE_URL, connectionTimeoutMillis: 2000 })) {
    servers.push(await createTemplate('system', SYSTEM_DATABASE_URL, template));
  } else {
    console.warn(
      `[merit tests] ${SYSTEM_DATABASE_URL} is not reachable: testing against the embedded server only.`,
    );
  }
  project.provide('databaseServers', servers);
  project.provide('embeddedDataDir', dataDir);
}

export async function teardown(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await embedded?.stop().catch(() => {});
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true }).catch(() => {});
}

async function createTemplate(
  kind: TestDatabaseServer['kind'],
  adminUrl: string,
  template: string,
): Promise<TestDatabaseServer> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await dropTestDatabases(admin, template);
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(template)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${template}`;
  const handle = connectDatabase(url.toString(), { maxConnections: 2 });
  try {
    await prepareDatabase(handle);
  } finally {
    await handle.close();
  }
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await dropTestDatabases(client, template);
    } finally {
      await client.end();
    }
  });
  return { kind, adminUrl, template };
}

/** Drops this run's template and its copies (and any left by a killed earlier run with the same name). */
async function dropTestDatabases(client: pg.Client, template: string): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    'SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2',
    [template, `${template}\\_c%`],
  );
  for (const { datname } of rows) {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
  }
}
