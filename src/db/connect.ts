import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';

const NUMERIC_OID = 1700;
const INT8_OID = 20;
const TIMESTAMP_OID = 1114;

/** Parses NUMERIC and BIGINT as numbers and the seed's `TIMESTAMP` columns as UTC instants. */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === NUMERIC_OID || oid === INT8_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMP_OID) return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
};

/** Limits every Merit connection carries; 0 turns a PostgreSQL timeout off. Config keeps the defaults. */
export interface ConnectionLimits {
  /** Wait for a pooled connection (or for a new one to open) before failing; answered 503 over HTTP. */
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  acquireTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 60_000,
});

export interface ConnectOptions extends Partial<ConnectionLimits> {
  maxConnections?: number;
}

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly pool: pg.Pool;
  readonly url: string;
  readonly limits: Readonly<ConnectionLimits>;
  /**
   * A connection of its own (outside the pool) with the same settings, for a session that lives long
   * (an advisory lock). It already has an 'error' listener; the caller adds its own to react.
   */
  createClient(): pg.Client;
  close(): Promise<void>;
}

/**
 * Settings of every connection: sessions in UTC, PostgreSQL-side statement, lock and
 * idle-in-transaction timeouts, a connect timeout, and TCP keepalive so a vanished server is noticed.
 */
export function connectionSettings(url: string, limits: Readonly<ConnectionLimits>): pg.ClientConfig {
  return {
    connectionString: url,
    options: '-c timezone=UTC',
    types: typeParsers,
    connectionTimeoutMillis: limits.acquireTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // pg leaves a 0 out of the startup packet, so 0 keeps the server's default (off).
    statement_timeout: limits.statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
  };
}

/** Opens a pool and the Kysely instance over it. No connection error can crash the process. */
export function connectDatabase(url: string, options: ConnectOptions = {}): DatabaseHandle {
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS };
  for (const key of Object.keys(DEFAULT_CONNECTION_LIMITS) as (keyof ConnectionLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  const settings = connectionSettings(url, limits);
  // connectionTimeoutMillis also bounds the wait for a free pooled client (pg-pool's acquire timeout).
  const pool = new pg.Pool({ ...settings, max: options.maxConnections ?? 20 });
  // An idle client that loses its server is removed by the pool, which then emits this.
  pool.on('error', () => {});
  // A checked-out client whose server goes away emits 'error' too, and Kysely listens to none: without
  // this listener that error would end the process. The failing query rejects; the pool drops the client.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    url,
    limits,
    createClient() {
      const client = new pg.Client(settings);
      client.on('error', () => {});
      return client;
    },
    async close() {
      await db.destroy();
    },
  };
}

/** host:port/name of a connection string, without credentials (the seed's "📍 Database:" line). */
export function describeDatabaseUrl(url: string): {
  host: string;
  port: number;
  name: string;
  label: string;
} {
  const parsed = new URL(url);
  const host = parsed.hostname || 'localhost';
  const port = Number(parsed.port || 5432);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  return { host, port, name, label: `${host}:${port}/${name}` };
}

/** True when a server answers `SELECT 1` with these settings (a failed probe never throws). */
export async function canConnect(settings: pg.ClientConfig): Promise<boolean> {
  const client = new pg.Client(settings);
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
