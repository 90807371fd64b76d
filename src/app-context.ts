import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { RescoreOptions } from './evaluation/rescore.js';
import type { EventBus } from './events/event-bus.js';
import type { Log } from './lib/log.js';
import type { ExecutionTracker } from './tasks/execution-tracker.js';

/** The services container: what routes and jobs need, built once by the server (or a test) and passed in. */
export interface AppContext {
  readonly config: Config;
  readonly db: Kysely<Database>;
  /**
   * For read endpoints that tolerate replica lag (DATABASE_READ_URL; `db` when unset). Never for writes,
   * reads inside a write, or a read that must see the caller's own write at once.
   */
  readonly readDb: Kysely<Database>;
  readonly tracker: ExecutionTracker;
  readonly events: EventBus;
  readonly database: { kind: 'embedded' | 'external'; label: string };
  /** Overall-score weights and reward rules, parsed once from the configuration. */
  readonly scoring: RescoreOptions;
  /** Structured log (one JSON line per event). */
  readonly log: Log;
}
