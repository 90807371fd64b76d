import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.js';
import { findRollupDrift, TRIGGER_ROLLUPS } from '../../src/stats/rollup-upkeep.js';
import { recomputeAllStats } from '../../src/stats/stats.queries.js';
import type { ChaosClient } from './http-client.js';

/** What an acknowledged write promises about a task. */
export type TaskExpectation = 'exists' | 'started' | 'finished' | 'failed' | 'completed';

const STRENGTH: Record<TaskExpectation, number> = {
  exists: 0,
  started: 1,
  finished: 2,
  failed: 3,
  completed: 3,
};

/**
 * Every write Merit acknowledged (answered 2xx), to look for in the database afterwards; and every
 * rating sent, acknowledged or not, since an unanswered rating may still have been stored.
 */
export class WriteLedger {
  readonly tasks = new Map<string, TaskExpectation>();
  readonly nodes = new Set<string>();
  readonly categories = new Set<string>();
  readonly ratingsSent = new Map<string, Set<number>>();
  readonly ratingsAcknowledged = new Set<string>();

  task(id: string, expectation: TaskExpectation): void {
    const known = this.tasks.get(id);
    if (known === undefined || STRENGTH[expectation] > STRENGTH[known]) this.tasks.set(id, expectation);
  }

  ratingSent(taskId: string, rating: number): void {
    const sent = this.ratingsSent.get(taskId) ?? new Set<number>();
    sent.add(rating);
    this.ratingsSent.set(taskId, sent);
  }

  ratingAcknowledged(taskId: string, rating: number): void {
    this.ratingSent(taskId, rating);
    this.ratingsAcknowledged.add(taskId);
  }

  get size(): number {
    return this.tasks.size + this.nodes.size + this.categories.size + this.ratingsAcknowledged.size;
  }
}

export interface LedgerCheck {
  acknowledged: number;
  found: number;
  /** A few of the writes not found, described. */
  missing: string[];
}

const CHECK_TIMEOUT_MS = 30_000;

/** Looks for every acknowledged write in the database. */
export async function verifyLedger(databaseUrl: string, ledger: WriteLedger): Promise<LedgerCheck> {
  const handle = connectDatabase(databaseUrl, { maxConnections: 1 });
  const missing: string[] = [];
  let lost = 0;
  const miss = (description: string) => {
    lost++;
    if (missing.length < 8) missing.push(description);
  };
  try {
    const pool = handle.pool;
    await pool.query(`SET statement_timeout = ${CHECK_TIMEOUT_MS}`);
    const taskIds = [...new Set([...ledger.tasks.keys(), ...ledger.ratingsAcknowledged])];
    const { rows } = await pool.query<{
      id: string;
      status: string;
      scored: boolean;
      user_rating: number | null;
    }>(
      `SELECT t.id, t.status, s.task_id IS NOT NULL AS scored, s.user_rating
       FROM tasks t LEFT JOIN agent_performance_scores s ON s.task_id = t.id
       WHERE t.id = ANY($1::uuid[])`,
      [taskIds],
    );
    const found = new Map(rows.map((row) => [row.id, row]));
    for (const [id, expectation] of ledger.tasks) {
      const row = found.get(id);
      if (!row) miss(`task ${id} (${expectation}) is not in the database`);
      else if (!meets(expectation, row.status, row.scored))
        miss(
          `task ${id} should be ${expectation} (with its score) but is ${row.status}${row.scored ? '' : ', unscored'}`,
        );
    }
    for (const id of ledger.ratingsAcknowledged) {
      const stored = found.get(id)?.user_rating ?? null;
      const sent = ledger.ratingsSent.get(id) ?? new Set<number>();
      if (stored === null || !sent.has(Number(stored)))
        miss(`rating of task ${id}: stored ${stored}, sent ${[...sent].join('/')}`);
    }
    if (ledger.nodes.size > 0) {
      const nodes = await pool.query<{ id: string }>(
        'SELECT id FROM agent_node_performance WHERE id = ANY($1::uuid[])',
        [[...ledger.nodes]],
      );
      const present = new Set(nodes.rows.map((row) => row.id));
      for (const id of ledger.nodes) if (!present.has(id)) miss(`node ${id} is not in the database`);
    }
    if (ledger.categories.size > 0) {
      const categories = await pool.query<{ category: string }>(
        'SELECT category FROM objective_templates WHERE category = ANY($1::text[])',
        [[...ledger.categories]],
      );
      const present = new Set(categories.rows.map((row) => row.category));
      for (const name of ledger.categories)
        if (!present.has(name)) miss(`category ${name} is not in the database`);
    }
    return { acknowledged: ledger.size, found: ledger.size - lost, missing };
  } finally {
    await handle.close();
  }
}

function meets(expectation: TaskExpectation, status: string, scored: boolean): boolean {
  switch (expectation) {
    case 'exists':
      return true;
    case 'started':
      return status !== 'queued';
    case 'finished':
      return status === 'completed' || status === 'failed';
    case 'failed':
      return status === 'failed';
    case 'completed':
      return status === 'completed' && scored;
  }
}

export interface DriftCheck {
  /** Statistics rows (agent rows and agent-category rows) and trigger-kept rollup rows compared. */
  rows: number;
  /** Rows whose stored running sums differ from a recompute from the raw rows; undefined if not measured. */
  drifted: number | undefined;
  samples: string[];
}

/** Columns that are bookkeeping, not statistics. */
const IGNORED_COLUMNS = new Set(['last_updated', 'overall_rank', 'nickname']);

class RolledBack extends Error {
  constructor(readonly check: DriftCheck) {
    super('rolled back');
  }
}

type StatsRow = Record<string, unknown>;

/**
 * Compares the stored statistics with Merit's own recompute from the raw task and score rows
 * (`recomputeAllStats`), run in a transaction that is rolled back, so the database is left as it was,
 * and every rollup kept by triggers with its drift finder (`findRollupDrift`).
 * The statistics tables are locked first, so concurrent writers wait and the snapshot is consistent.
 */
export async function measureStatsDrift(databaseUrl: string): Promise<DriftCheck> {
  const handle = connectDatabase(databaseUrl, { maxConnections: 1 });
  try {
    await handle.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = '10s'`.execute(trx);
        await sql`SET LOCAL statement_timeout = ${sql.lit(CHECK_TIMEOUT_MS)}`.execute(trx);
        // LOCK takes no snapshot: the snapshot starts after the writers holding the tables finished.
        await sql`LOCK TABLE agent_performance_stats, agent_category_stats IN SHARE ROW EXCLUSIVE MODE`.execute(
          trx,
        );
        const readBoth = async () => ({
          agents: (await sql<StatsRow>`SELECT * FROM agent_performance_stats`.execute(trx)).rows,
          categories: (await sql<StatsRow>`SELECT * FROM agent_category_stats`.execute(trx)).rows,
        });
        const stored = await readBoth();
        await recomputeAllStats(trx);
        const expected = await readBoth();
        const samples: string[] = [];
        const agents = compareRows(stored.agents, expected.agents, (row) => String(row.agent_id), samples);
        const categories = compareRows(
          stored.categories,
          expected.categories,
          (row) => `${row.agent_id}/${row.objective_category}`,
          samples,
        );
        // The rollups kept by triggers (and the values their raw rows copy) against their raw rows, in
        // the same snapshot.
        let rollupRows = 0;
        let rollupDrifted = 0;
        for (const rollup of TRIGGER_ROLLUPS) {
          const drift = await findRollupDrift(trx, rollup);
          const counted = await sql<{
            n: number;
          }>`SELECT count(*)::int AS n FROM ${sql.table(rollup)}`.execute(trx);
          rollupRows += counted.rows[0]?.n ?? 0;
          rollupDrifted += drift.length;
          for (const row of drift.slice(0, Math.max(0, 8 - samples.length)))
            samples.push(
              `${row.table} ${Object.values(row.key).join('/')}: stored ${row.stored} recomputed ${row.recomputed}`,
            );
        }
        throw new RolledBack({
          rows: agents.rows + categories.rows + rollupRows,
          drifted: agents.drifted + categories.drifted + rollupDrifted,
          samples,
        });
      });
    throw new Error('the drift check did not roll back');
  } catch (error) {
    if (error instanceof RolledBack) return error.check;
    return { rows: 0, drifted: undefined, samples: [`drift not measured: ${(error as Error).message}`] };
  } finally {
    await handle.close();
  }
}

function compareRows(
  stored: StatsRow[],
  expected: StatsRow[],
  keyOf: (row: StatsRow) => string,
  samples: string[],
): { rows: number; drifted: number } {
  const storedByKey = new Map(stored.map((row) => [keyOf(row), row]));
  const expectedByKey = new Map(expected.map((row) => [keyOf(row), row]));
  const keys = new Set([...storedByKey.keys(), ...expectedByKey.keys()]);
  let drifted = 0;
  for (const key of keys) {
    const a = storedByKey.get(key);
    const b = expectedByKey.get(key);
    const columns = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
    const differences: string[] = [];
    for (const column of columns) {
      if (IGNORED_COLUMNS.has(column)) continue;
      const left = a?.[column];
      const right = b?.[column];
      if (!sameValue(left, right, a === undefined || b === undefined))
        differences.push(`${column} stored ${show(left)} recomputed ${show(right)}`);
    }
    if (differences.length > 0) {
      drifted++;
      if (samples.length < 8) samples.push(`${key}: ${differences.slice(0, 4).join(', ')}`);
    }
  }
  return { rows: keys.size, drifted };
}

/** Numbers within rounding, instants to the millisecond; a missing row counts as zeros and nulls. */
function sameValue(left: unknown, right: unknown, rowMissing: boolean): boolean {
  const normalize = (value: unknown) => {
    if (value === undefined && rowMissing) return null;
    if (value instanceof Date) return value.getTime();
    if (typeof value === 'string' && value !== '' && !Number.isNaN(Number(value))) return Number(value);
    return value;
  };
  let l = normalize(left);
  let r = normalize(right);
  if (rowMissing) {
    if (l === null && typeof r === 'number') l = 0;
    if (r === null && typeof l === 'number') r = 0;
  }
  if (typeof l === 'number' && typeof r === 'number') {
    // Sums of rounded deltas may differ from a sum of rounded values in the last decimals only.
    return Math.abs(l - r) <= Math.max(1e-4, 1e-6 * Math.max(Math.abs(l), Math.abs(r)));
  }
  return l === r || JSON.stringify(l) === JSON.stringify(r);
}

function show(value: unknown): string {
  return value instanceof Date ? value.toISOString() : JSON.stringify(value);
}

/**
 * Polls /api/health until it answers 2xx or `boundMs` passes; returns the milliseconds from `since`
 * (a performance.now() instant) to that answer, or undefined when it did not recover in time.
 */
export async function waitForHealth(
  client: ChaosClient,
  since: number,
  boundMs: number,
  pollMs = 100,
): Promise<number | undefined> {
  const deadline = since + boundMs;
  for (;;) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return undefined;
    const outcome = await client.send(
      { method: 'GET', path: '/api/health' },
      { timeoutMs: Math.max(1, Math.min(client.hangMs, remaining)) },
    );
    if (outcome.kind === 'status' && outcome.status >= 200 && outcome.status < 300)
      return performance.now() - since;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
