import type { Config } from '../config.js';
import { connectDatabase, type DatabaseHandle, describeDatabaseUrl } from './connect.js';
import { ensureDefaultData } from './default-data.js';
import { type EmbeddedServer, startEmbeddedServer } from './embedded-server.js';
import { type MigrationReport, migrateToLatest } from './migrate.js';

export interface OpenedDatabase {
  readonly handle: DatabaseHandle;
  readonly kind: 'embedded' | 'external';
  /** host:port/name, without credentials. */
  readonly label: string;
  readonly embedded: EmbeddedServer | undefined;
  /**
   * Closes the pool and stops the embedded server if this process started it. A server found running
   * (left by a killed process, or owned by a running Merit) is stopped only with `stopReusedServer`,
   * which `merit start` passes because it takes ownership of the server it reuses.
   */
  close(options?: { stopReusedServer?: boolean }): Promise<void>;
}

/** Connects to DATABASE_URL, or starts (or reuses) the embedded server in the data folder. */
export async function openDatabase(config: Config, log: (message: string) => void): Promise<OpenedDatabase> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedServer({ dataDir: config.dataDir, preferredPort: config.embeddedPgPort, log });
  const url = config.databaseUrl ?? (embedded as EmbeddedServer).url;
  const handle = connectDatabase(url, config.database);
  return {
    handle,
    kind: embedded ? 'embedded' : 'external',
    label: describeDatabaseUrl(url).label,
    embedded,
    async close(options = {}) {
      await handle.close();
      if (embedded && (!embedded.reused || options.stopReusedServer)) await embedded.stop();
    },
  };
}

/** Migrates to the latest schema and inserts the default team and categories. */
export async function prepareDatabase(handle: DatabaseHandle): Promise<MigrationReport> {
  const report = await migrateToLatest(handle.db, handle.pool);
  await ensureDefaultData(handle.db);
  return report;
}
