import { sql } from 'kysely';
import { createRng } from '../../src/lib/random.js';
import { DEFAULT_PROJECT_ID, OTHER_USER, type TestApp, USER } from './app.js';

const DAY = 86_400_000;

/**
 * Inserts finished tasks with score rows straight into the tables (the statistics rollups are then
 * rebuilt by the caller's recompute): spread over `days` days before `now`, by two users, a fifth
 * failed, with unknown tokens, costs and durations among them, and every kind of reward (none, rating,
 * judge dimensions, peer score). Deterministic for a seed.
 */
export async function seedFinishedTasks(
  app: TestApp,
  options: {
    seed: number;
    count: number;
    now: Date;
    agents: readonly string[];
    categories: readonly string[];
    days?: number;
  },
): Promise<void> {
  const random = createRng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const maybe = (p: number, value: () => number) => (random() < p ? value() : null);
  const score = () => Math.round(random() * 100) / 100;
  for (let i = 0; i < options.count; i++) {
    const id = crypto.randomUUID();
    const agent = pick(options.agents);
    const category = pick(options.categories);
    const user = random() < 0.8 ? USER : OTHER_USER;
    const completedAt = new Date(options.now.getTime() - Math.floor(random() * (options.days ?? 10) * DAY));
    const failed = random() < 0.2;
    await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, status, result, error,
        total_tokens, estimated_cost, started_at, completed_at, duration_ms)
      VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${user}, ${agent}, ${`task ${i}`}, ${category},
        ${failed ? 'failed' : 'completed'}, ${failed ? null : 'done'}, ${failed ? 'boom' : null},
        ${maybe(0.8, () => Math.floor(random() * 4000))}, ${maybe(0.7, () => Math.round(random() * 1e5) / 1e6)},
        ${new Date(completedAt.getTime() - 1000)}, ${completedAt}, ${maybe(0.9, () => Math.floor(random() * 60_000))})`.execute(
      app.ctx.db,
    );
    await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category,
        overall_score, user_rating, accuracy_score, relevance_score, completeness_score, peer_score, estimated_cost,
        created_at)
      VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${agent}, ${user}, ${category}, ${failed ? null : maybe(0.7, score)},
        ${maybe(0.4, () => 1 + Math.floor(random() * 5))}, ${maybe(0.4, score)}, ${maybe(0.3, score)},
        ${maybe(0.3, score)}, ${maybe(0.3, score)}, NULL, ${completedAt})`.execute(app.ctx.db);
  }
}
