import type { EventBus } from '../events/event-bus.js';

/**
 * Leaderboard answers kept in memory until statistics change. Every write that changes statistics
 * (completions, failures, ratings, evaluations, reviews, the recompute) publishes a `leaderboard` event,
 * which empties the cache at once: in the writing process before the write is acknowledged, in every
 * other Merit process when the event arrives through PostgreSQL (EventRelay, milliseconds later). The
 * short time-to-live only bounds what no event announces (a write made with psql, a notification lost
 * while a LISTEN connection was down before its reconnect invalidated everything).
 */
export class LeaderboardCache<T> {
  private readonly entries = new Map<string, { value: T; storedAt: number }>();
  private version = 0;

  constructor(
    events: EventBus,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    // Keys come from query parameters: bound them, or a client could grow the cache without limit.
    private readonly maxEntries = 256,
  ) {
    events.subscribe((event) => {
      if (event.type !== 'leaderboard') return;
      this.version++;
      this.entries.clear();
    });
  }

  /** The cached value for `key`, else `load()`'s, cached unless statistics changed while it loaded. */
  async get(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.storedAt < this.ttlMs) return entry.value;
    const version = this.version;
    const value = await load();
    if (version === this.version) {
      this.entries.delete(key);
      this.entries.set(key, { value, storedAt: this.now() });
      // Maps iterate in insertion order: the first key is the least recently stored.
      if (this.entries.size > this.maxEntries)
        this.entries.delete(this.entries.keys().next().value as string);
    }
    return value;
  }
}
