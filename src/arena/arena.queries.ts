import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type {
  ArenaBattlesTable,
  ArenaComparisonsTable,
  ArenaVote,
  ArenaWinner,
  Database,
  TaskStatus,
} from '../db/database.js';
import type { Scope } from '../identity/scope.js';

export type NewArenaBattle = Insertable<ArenaBattlesTable>;
export type ArenaBattleRow = Selectable<ArenaBattlesTable>;
export type ArenaComparisonRow = Selectable<ArenaComparisonsTable>;

export const JUDGE_COMPARISON_JOB = 'arena_judge_comparison';

/**
 * Stores battles; a battle whose external key the project already holds is skipped (a re-sent or
 * re-imported battle). Returns the ids of the battles stored, and for each input row whether it was new.
 */
export async function insertBattles(
  db: Kysely<Database>,
  rows: readonly NewArenaBattle[],
): Promise<{ id: string; external_key: string | null }[]> {
  if (rows.length === 0) return [];
  return db
    .insertInto('arena_battles')
    .values([...rows])
    .onConflict((oc) =>
      oc.columns(['project_id', 'external_key']).where('external_key', 'is not', null).doNothing(),
    )
    .returning(['id', 'external_key'])
    .execute();
}

/** The outcomes the ratings are fitted to: every battle of the project, or of one category. */
export async function findBattleOutcomes(
  db: Kysely<Database>,
  projectId: string,
  category: string | null,
): Promise<{ agent_a: string; agent_b: string; winner: ArenaWinner }[]> {
  let query = db
    .selectFrom('arena_battles')
    .select(['agent_a', 'agent_b', 'winner'])
    .where('project_id', '=', projectId);
  if (category !== null) query = query.where('category', '=', category);
  // A fixed order: the bootstrap draws battles by position, so the same battles give the same intervals
  // (by time, then the import key: a file imported into two projects gives the same figures in both).
  return query.orderBy('tstamp').orderBy('external_key').orderBy('id').execute();
}

/**
 * What identifies a set of battles cheaply: battles are only ever added, so their count and newest
 * insertion time change whenever the set does.
 */
export async function findBattleFingerprint(
  db: Kysely<Database>,
  projectId: string,
  category: string | null,
): Promise<string> {
  let query = db
    .selectFrom('arena_battles')
    .select([(eb) => eb.fn.countAll<string>().as('n'), sql<string | null>`max(created_at)::text`.as('last')])
    .where('project_id', '=', projectId);
  if (category !== null) query = query.where('category', '=', category);
  const row = await query.executeTakeFirstOrThrow();
  return `${row.n}@${row.last ?? 'none'}`;
}

/** The categories battles were recorded in, with their counts (uncategorised battles as null). */
export async function findBattleCategories(
  db: Kysely<Database>,
  projectId: string,
): Promise<{ category: string | null; battles: number }[]> {
  const rows = await db
    .selectFrom('arena_battles')
    .select(['category', (eb) => eb.fn.countAll<string>().as('battles')])
    .where('project_id', '=', projectId)
    .groupBy('category')
    .orderBy('category')
    .execute();
  return rows.map((row) => ({ category: row.category, battles: Number(row.battles) }));
}

export async function findAgentsByIds(db: Kysely<Database>, projectId: string, agentIds: readonly string[]) {
  if (agentIds.length === 0) return [];
  return db
    .selectFrom('agents')
    .select(['agent_id', 'nickname', 'display_name', 'origin', 'active', 'is_orchestrator', 'model'])
    .where('project_id', '=', projectId)
    .where('agent_id', 'in', [...agentIds])
    .execute();
}

/** Merit's own agents that can answer a compared command: active, run by Merit, not the orchestrator. */
export async function findComparableAgentIds(db: Kysely<Database>, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('agents')
    .select('agent_id')
    .where('project_id', '=', projectId)
    .where('active', '=', true)
    .where('origin', '=', 'merit')
    .where('is_orchestrator', '=', false)
    .orderBy('agent_id')
    .execute();
  return rows.map((row) => row.agent_id);
}

export async function insertComparison(
  db: Kysely<Database>,
  row: Insertable<ArenaComparisonsTable>,
): Promise<ArenaComparisonRow> {
  return db.insertInto('arena_comparisons').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Points the comparison at its second task, in the transaction that creates that task. */
export async function updateComparisonTaskB(
  db: Kysely<Database>,
  projectId: string,
  comparisonId: string,
  taskId: string,
): Promise<void> {
  await db
    .updateTable('arena_comparisons')
    .set({ task_b_id: taskId })
    .where('project_id', '=', projectId)
    .where('id', '=', comparisonId)
    .execute();
}

export interface ComparisonAnswer {
  task_id: string | null;
  status: TaskStatus | null;
  result: string | null;
  error: string | null;
}

export interface ComparisonWithAnswers extends ArenaComparisonRow {
  answer_a: ComparisonAnswer;
  answer_b: ComparisonAnswer;
}

function comparisonsInScope(db: Kysely<Database>, scope: Scope) {
  let query = db.selectFrom('arena_comparisons as c').where('c.project_id', '=', scope.projectId);
  if (scope.ownTasksOnly) query = query.where('c.user_id', '=', scope.userId);
  return query;
}

/** A comparison the caller may see, with the two tasks' states and answers. */
export async function findComparison(
  db: Kysely<Database>,
  scope: Scope,
  comparisonId: string,
): Promise<ComparisonWithAnswers | undefined> {
  const row = await comparisonsInScope(db, scope)
    .leftJoin('tasks as ta', (join) =>
      join.onRef('ta.project_id', '=', 'c.project_id').onRef('ta.id', '=', 'c.task_a_id'),
    )
    .leftJoin('tasks as tb', (join) =>
      join.onRef('tb.project_id', '=', 'c.project_id').onRef('tb.id', '=', 'c.task_b_id'),
    )
    .selectAll('c')
    .select([
      'ta.status as a_status',
      'ta.result as a_result',
      'ta.error as a_error',
      'tb.status as b_status',
      'tb.result as b_result',
      'tb.error as b_error',
    ])
    .where('c.id', '=', comparisonId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { a_status, a_result, a_error, b_status, b_result, b_error, ...comparison } = row;
  return {
    ...comparison,
    answer_a: { task_id: comparison.task_a_id, status: a_status, result: a_result, error: a_error },
    answer_b: { task_id: comparison.task_b_id, status: b_status, result: b_result, error: b_error },
  };
}

/** Records the vote once: undefined when the comparison already has one (or is not the caller's). */
export async function updateComparisonVote(
  db: Kysely<Database>,
  scope: Scope,
  input: { comparisonId: string; vote: ArenaVote; votedBy: string },
): Promise<ArenaComparisonRow | undefined> {
  let query = db
    .updateTable('arena_comparisons')
    .set({ vote: input.vote, voted_by: input.votedBy, voted_at: sql<Date>`now()` })
    .where('project_id', '=', scope.projectId)
    .where('id', '=', input.comparisonId)
    .where('vote', 'is', null);
  if (scope.ownTasksOnly) query = query.where('user_id', '=', scope.userId);
  return query.returningAll().executeTakeFirst();
}

/** The battles recorded from one comparison (the vote, the judge's verdict). */
export async function findComparisonBattles(
  db: Kysely<Database>,
  projectId: string,
  comparisonId: string,
): Promise<ArenaBattleRow[]> {
  return db
    .selectFrom('arena_battles')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('comparison_id', '=', comparisonId)
    .orderBy('created_at')
    .execute();
}

/**
 * Enqueues the LLM judge of a comparison; the job key keeps one pending job per comparison. Call it in
 * the transaction that creates the comparison.
 */
export async function insertJudgeComparisonJob(
  db: Kysely<Database>,
  payload: { projectId: string; comparisonId: string; attempt: number },
  runAt: Date,
): Promise<void> {
  const json = JSON.stringify({
    project_id: payload.projectId,
    comparison_id: payload.comparisonId,
    attempt: payload.attempt,
  });
  await sql`
    SELECT graphile_worker.add_job(
      ${JUDGE_COMPARISON_JOB},
      ${json}::json,
      run_at := ${runAt}::timestamptz,
      max_attempts := 5,
      job_key := ${`${JUDGE_COMPARISON_JOB}:${payload.comparisonId}`}
    )
  `.execute(db);
}
