import type { Config } from '../config.js';
import { runStatsRecompute } from '../stats/stats.jobs.js';
import { connectDatabase, type DatabaseHandle, describeDatabaseUrl } from './connect.js';
import { ensureDefaultData, restoreReferencedCategories } from './default-data.js';
import { type EmbeddedServer, startEmbeddedServer } from './embedded-server.js';
import { type MigrationReport, migrateToLatest } from './migrate.js';
import { hasUnvalidatedConstraints, validateConstraints } from './schema-repair.js';

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
  // The worker's jobs share the pool with requests: leave requests room beside a busy worker.
  const handle = connectDatabase(url, {
    ...config.database,
    maxConnections: Math.max(20, config.workerConcurrency + 10),
  });
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

/**
 * Migrates to the latest schema, inserts the default team and categories, and finishes a repair: rows
 * kept from before it get their categories back, the foreign keys re-added to them are validated, and
 * statistics are rebuilt from the rows that survived.
 */
export async function prepareDatabase(handle: DatabaseHandle): Promise<MigrationReport> {
  // A migration may rewrite or index a big table for longer than the request statement_timeout; it
  // keeps lock_timeout, so it fails instead of queueing every request behind its lock.
  const migrations = connectDatabase(handle.url, {
    ...handle.limits,
    statementTimeoutMs: 0,
    maxConnections: 2,
  });
  try {
    const report = await migrateToLatest(migrations);
    await ensureDefaultData(migrations.db);
    if (await hasUnvalidatedConstraints(migrations.pool)) {
      const categories = await restoreReferencedCategories(migrations.db);
      if (categories.length > 0)
        report.repaired.push(`categories ${categories.join(', ')} (named by kept rows)`);
      report.warnings.push(...(await validateConstraints(migrations.pool)));
    }
    if (report.repaired.length > 0) {
      // The repaired tables are rebuilt whatever a check would say.
      const counts = await runStatsRecompute(migrations.db, undefined, { force: true });
      report.repaired.push(
        `statistics recomputed (${counts.agents} agents, ${counts.categories} agent-category pairs)`,
      );
    }
    return report;
  } finally {
    await migrations.close();
  }
}
