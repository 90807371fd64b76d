import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureStatsDrift, verifyLedger, WriteLedger } from '../../bench/chaos/checks.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp, USER } from '../support/app.js';

/** The campaign's own checks must see what they look for, or a green campaign would prove nothing. */
describe('fault campaign checks', () => {
  let app: TestApp;
  const completed = randomUUID();
  const rated = randomUUID();

  beforeAll(async () => {
    app = await createTestApp('embedded');
    const recorded = await app.call('POST', '/api/tasks/batch', {
      tasks: [
        {
          id: completed,
          agent_id: 'agent_a',
          command: 'research a topic',
          objective_category: 'research',
          result: 'done',
        },
        {
          id: rated,
          agent_id: 'agent_b',
          command: 'plan a launch',
          objective_category: 'planning',
          result: 'planned',
          user_rating: 4,
        },
      ],
    });
    expect(recorded.status).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('finds acknowledged writes that are there and counts those that are not', async () => {
    const ledger = new WriteLedger();
    ledger.task(completed, 'completed');
    ledger.ratingAcknowledged(rated, 4);
    ledger.task(randomUUID(), 'exists');
    ledger.categories.add('research');
    ledger.categories.add('never_created');
    const check = await verifyLedger(app.database.url, ledger);
    expect(check.acknowledged).toBe(5);
    expect(check.found).toBe(3);
    expect(check.missing).toHaveLength(2);
  });

  it('counts a rating stored with another value than the one acknowledged as lost', async () => {
    const ledger = new WriteLedger();
    ledger.ratingAcknowledged(rated, 2);
    const check = await verifyLedger(app.database.url, ledger);
    expect(check).toMatchObject({ acknowledged: 1, found: 0 });
  });

  it('reports no drift on consistent statistics, and the drifted row once a running sum is off, changing nothing', async () => {
    expect(await measureStatsDrift(app.database.url)).toMatchObject({ drifted: 0 });
    await app.database.pool.query(
      "UPDATE agent_category_stats SET total_tasks = total_tasks + 1 WHERE agent_id = 'agent_a' AND objective_category = 'research'",
    );
    const drift = await measureStatsDrift(app.database.url);
    expect(drift.drifted).toBe(1);
    expect(drift.samples.join('\n')).toContain('agent_a/research: total_tasks stored 2 recomputed 1');
    // The recompute ran in a transaction that was rolled back: the drifted row is still there.
    const { rows } = await app.database.pool.query(
      "SELECT total_tasks FROM agent_category_stats WHERE agent_id = 'agent_a' AND objective_category = 'research'",
    );
    expect(rows[0]?.total_tasks).toBe(2);
  });

  it('counts a trigger-kept rollup row that differs from its raw rows as drift, naming it', async () => {
    const before = await measureStatsDrift(app.database.url);
    await app.database.pool.query(
      `INSERT INTO routing_quality_hourly (project_id, user_id, hour, decisions, routed)
       VALUES ('${DEFAULT_PROJECT_ID}', '${USER}', '2026-01-02T03:00:00Z', 5, 5)`,
    );
    const drift = await measureStatsDrift(app.database.url);
    expect(drift.drifted).toBe((before.drifted ?? 0) + 1);
    expect(drift.rows).toBe(before.rows + 1);
    expect(drift.samples.join('\n')).toMatch(
      new RegExp(
        `routing_quality_hourly ${DEFAULT_PROJECT_ID}/${USER}/2026-01-02T03:00:00\\+00:00: stored 5/5/0/0/0/0 recomputed null`,
      ),
    );
  });
});
