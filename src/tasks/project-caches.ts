import type { Kysely } from 'kysely';
import type { Database, TemplateRow } from '../db/database.js';
import { buildPriorBaseline, type EfficiencyBaseline, fitBaseline } from './efficiency.js';
import { findAgentNicknames, findRecentLogWork, findTemplates } from './tasks.queries.js';

/**
 * How long a project's cached categories, agents and efficiency baselines are used at most. A change
 * of categories or agents empties them at once in every process (a `categories`/`agents` live event,
 * relayed through PostgreSQL, calls `clear`); the time-to-live bounds what no event announces (a
 * baseline drifting as tasks arrive, a row edited with psql).
 */
export const CACHE_TTL_MS = 60_000;
/** Recent tasks of a category that its efficiency baseline is fitted on. */
const BASELINE_SAMPLE = 500;

export type AgentNames = Map<string, { nickname: string; active: boolean }>;

/** One value per key, loaded again once it is CACHE_TTL_MS old. */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; loadedAt: number }>();

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && Date.now() - cached.loadedAt <= CACHE_TTL_MS) return cached.value;
    const value = await load();
    this.entries.set(key, { value, loadedAt: Date.now() });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * What the tracker reads on every write, per project: its categories (templates), its agents, and the
 * efficiency baseline of each of its categories. A read may pass the caller's transaction as `db`, so
 * that it never waits for a second pooled connection while holding one.
 */
export class ProjectCaches {
  private readonly templateCache = new TtlCache<Map<string, TemplateRow>>();
  private readonly agentCache = new TtlCache<AgentNames>();
  /** Keyed by project and category. */
  private readonly baselineCache = new TtlCache<EfficiencyBaseline>();

  constructor(private readonly db: Kysely<Database>) {}

  /** The project's categories by name. */
  templates(projectId: string, db: Kysely<Database> = this.db): Promise<Map<string, TemplateRow>> {
    return this.templateCache.get(projectId, async () => {
      const rows = await findTemplates(db, projectId);
      return new Map(rows.map((row) => [row.category, row]));
    });
  }

  agents(projectId: string): Promise<AgentNames> {
    return this.agentCache.get(projectId, () => findAgentNicknames(this.db, projectId));
  }

  /** The category's efficiency baseline, robust to one odd task, from its template's typical work. */
  baseline(
    db: Kysely<Database>,
    projectId: string,
    category: string,
    typical: { tokens: number; durationMs: number },
  ): Promise<EfficiencyBaseline> {
    return this.baselineCache.get(`${projectId}/${category}`, async () => {
      const logWorks = await findRecentLogWork(db, projectId, category, BASELINE_SAMPLE);
      return fitBaseline(logWorks, buildPriorBaseline(typical.tokens, typical.durationMs));
    });
  }

  /** Forgets one project's categories (an unknown name may be a category created a moment ago). */
  forgetTemplates(projectId: string): void {
    this.templateCache.delete(projectId);
  }

  /** Forgets one project's agents (an unknown id may be an agent created a moment ago). */
  forgetAgents(projectId: string): void {
    this.agentCache.delete(projectId);
  }

  /** Forgets everything (on a `categories` or `agents` event, whichever process published it). */
  clear(): void {
    this.templateCache.clear();
    this.agentCache.clear();
    this.baselineCache.clear();
  }
}
