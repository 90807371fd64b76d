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

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly pool: pg.Pool;
  readonly url: string;
  close(): Promise<void>;
}

/** Opens a pool (every session in UTC) and the Kysely instance over it. */
export function connectDatabase(url: string, options: { maxConnections?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 20,
    options: '-c timezone=UTC',
    types: typeParsers,
  });
  // An idle client that loses its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    url,
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
