import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { Scope } from '../identity/scope.js';
import type { ModelUse } from './prices.js';

/** The models the scope's tasks name, with how many tasks each and how many finished ones lack a cost. */
export async function findModelUses(db: Kysely<Database>, scope: Scope): Promise<ModelUse[]> {
  const mine = scope.ownTasksOnly ? sql`AND user_id = ${scope.userId}` : sql``;
  const result = await sql<ModelUse>`
    SELECT model, count(*)::int AS tasks,
      count(*) FILTER (WHERE estimated_cost IS NULL AND status IN ('completed', 'failed'))::int AS unpriced_tasks
    FROM tasks
    WHERE project_id = ${scope.projectId} AND model IS NOT NULL ${mine}
    GROUP BY model
  `.execute(db);
  return result.rows;
}
