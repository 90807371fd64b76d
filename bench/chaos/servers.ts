import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { canConnect } from '../../src/db/connect.js';
import { type EmbeddedServer, startEmbeddedServer } from '../../src/db/embedded-server.js';
import { freePort, type MeritProcess, runMerit } from '../../test/support/process.js';

/** The machine's PostgreSQL, used when it answers. */
export const SYSTEM_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A PostgreSQL server the campaign creates its databases on. */
export interface DatabaseServer {
  readonly kind: 'system' | 'embedded';
  /** URL of the maintenance database, for CREATE/DROP DATABASE and pg_terminate_backend. */
  adminUrl(): string;
  /** Stops and starts the server (embedded only: the campaign owns it); resolves when it answers again. */
  restart?(downMs: number): Promise<{ downAt: number; upAt: number }>;
  close(): Promise<void>;
}

/** The machine's server when reachable (unless `preferEmbedded`), else an embedded one in a temp folder. */
export async function openDatabaseServer(preferEmbedded: boolean): Promise<DatabaseServer> {
  if (
    !preferEmbedded &&
    (await canConnect({ connectionString: SYSTEM_ADMIN_URL, connectionTimeoutMillis: 2000 }))
  ) {
    return externalDatabaseServer(SYSTEM_ADMIN_URL, 'system');
  }
  return startOwnedEmbeddedServer();
}

/** A server someone else runs (the test run's), used as it is: never restarted or stopped. */
export function externalDatabaseServer(adminUrl: string, kind: DatabaseServer['kind']): DatabaseServer {
  return { kind, adminUrl: () => adminUrl, close: async () => {} };
}

/** An embedded PostgreSQL server in a temp folder, owned (and restartable) by the campaign. */
export async function startOwnedEmbeddedServer(): Promise<DatabaseServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-chaos-pg-'));
  // PostgreSQL runs as the postgres user when the campaign runs as root: it must enter the folder.
  await fs.chmod(dataDir, 0o755);
  const port = await freePort();
  let server: EmbeddedServer = await startEmbeddedServer({ dataDir, preferredPort: port });
  const adminUrl = () => server.url.replace(/\/merit$/, '/postgres');
  return {
    kind: 'embedded',
    adminUrl,
    async restart(downMs) {
      await server.stop();
      const downAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await startEmbeddedServer({ dataDir, preferredPort: server.port });
      if (server.port !== port) throw new Error(`the restarted server took port ${server.port}, not ${port}`);
      return { downAt, upAt: performance.now() };
    },
    async close() {
      await server.stop().catch(() => {});
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function withAdmin<T>(server: DatabaseServer, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server.adminUrl() });
  client.on('error', () => {});
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates an empty database (Merit migrates it at start) and returns its URL. */
export async function createDatabase(server: DatabaseServer, name: string): Promise<string> {
  await withAdmin(server, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  });
  const url = new URL(server.adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(server: DatabaseServer, name: string): Promise<void> {
  await withAdmin(server, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`),
  );
}

/** Ends every session on the database (Merit's pool, its worker and its worker-leader client). */
export async function terminateBackends(server: DatabaseServer, name: string): Promise<number> {
  return withAdmin(server, async (admin) => {
    const { rows } = await admin.query<{ terminated: boolean }>(
      'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    return rows.filter((row) => row.terminated).length;
  });
}

export interface StopOutcome {
  stoppedBySigterm: boolean;
  ms: number;
  /** Merit was not running any more when it was asked to stop (it crashed or never started). */
  alreadyExited: boolean;
}

/** Merit as a real child process (`node bin/merit.js start`) on a loopback port. */
export class MeritUnderTest {
  private process: MeritProcess | undefined;
  private earlierOutput = '';
  /** Exits nobody asked for (a crash), with their code. */
  readonly unexpectedExits: (number | null)[] = [];
  private expectingExit = false;

  constructor(
    readonly port: number,
    readonly databaseUrl: string,
  ) {}

  static async create(databaseUrl: string): Promise<MeritUnderTest> {
    return new MeritUnderTest(await freePort(), databaseUrl);
  }

  /** Starts Merit and resolves once it prints its URL (bounded: a start that takes over 60 s fails). */
  async start(): Promise<void> {
    const dataDir = path.join(os.tmpdir(), 'merit-chaos-unused');
    const started = runMerit(['start'], {
      DATABASE_URL: this.databaseUrl,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      MERIT_LOG_LEVEL: 'warn',
      MERIT_DATA_DIR: dataDir,
    });
    this.process = started;
    this.expectingExit = false;
    started.exited.then((code) => {
      if (this.process === started && !this.expectingExit) this.unexpectedExits.push(code);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        started.waitFor(/Merit is running at/),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Merit did not start within 60 s:\n${started.output()}`)),
            60_000,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  get alive(): boolean {
    const child = this.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** kill -9: no chance to clean up. */
  async killHard(): Promise<void> {
    const current = this.process;
    if (!current) return;
    this.expectingExit = true;
    current.child.kill('SIGKILL');
    await current.exited;
    this.retire();
  }

  /** SIGTERM, then SIGKILL if Merit is still running after `boundMs`; says whether SIGTERM sufficed. */
  async stop(boundMs = 10_000): Promise<StopOutcome> {
    const current = this.process;
    if (!current || !this.alive) {
      this.retire();
      return { stoppedBySigterm: false, ms: 0, alreadyExited: true };
    }
    this.expectingExit = true;
    const started = performance.now();
    current.child.kill('SIGTERM');
    const exited = await Promise.race([
      current.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), boundMs)),
    ]);
    const ms = performance.now() - started;
    if (!exited) {
      current.child.kill('SIGKILL');
      await current.exited;
    }
    this.retire();
    return { stoppedBySigterm: exited, ms, alreadyExited: false };
  }

  private retire(): void {
    this.earlierOutput += this.process?.output() ?? '';
    this.process = undefined;
  }

  /** Everything Merit printed, over all its runs. */
  output(): string {
    return this.earlierOutput + (this.process?.output() ?? '');
  }
}
