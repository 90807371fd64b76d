import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import type { Database } from '../../src/db/database.js';
import {
  createRateLimitJobs,
  DELETE_OLD_RATE_LIMIT_WINDOWS_JOB,
} from '../../src/identity/rate-limits.jobs.js';
import {
  checkRateLimit,
  consumeRateLimit,
  deleteOldRateLimitWindows,
  enforceRateLimit,
  RateLimitedError,
  recordRateLimitUsage,
} from '../../src/identity/rate-limits.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/database.js';

const MINUTE = 60;
const DAY = 24 * 60 * 60;
/** A minute boundary (and a day boundary): windows of 60 s and of a day both start here. */
const START = Date.parse('2026-03-01T00:00:00Z');

function at(seconds: number): Date {
  return new Date(START + seconds * 1000);
}

async function counterAmount(
  db: Kysely<Database>,
  bucket: string,
  windowStart: Date,
): Promise<number | null> {
  const row = await db
    .selectFrom('rate_limit_counters')
    .select('amount')
    .where('bucket', '=', bucket)
    .where('window_start', '=', windowStart)
    .executeTakeFirst();
  return row === undefined ? null : Number(row.amount);
}

describe.each(databaseKinds())('rate limits in PostgreSQL (%s)', (kind) => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    db = database.db;
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('allows exactly 20 of 50 concurrent consumes against a limit of 20', async () => {
    const bucket = 'key:concurrent:requests';
    const decisions = await Promise.all(
      Array.from({ length: 50 }, () =>
        consumeRateLimit(db, { bucket, windowSeconds: MINUTE, limit: 20, now: at(5) }),
      ),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(20);
    expect(await counterAmount(db, bucket, at(0))).toBe(20);
    for (const refused of decisions.filter((decision) => !decision.allowed)) {
      expect(refused).toMatchObject({ used: 20, limit: 20 });
    }
  });

  it('shares one limit between two independent pools, as two processes would', async () => {
    const other: DatabaseHandle = connectDatabase(database.url, { maxConnections: 10 });
    try {
      const bucket = 'user:shared:u1:commands';
      const consume = (pool: Kysely<Database>) =>
        consumeRateLimit(pool, { bucket, windowSeconds: MINUTE, limit: 20, now: at(30) });
      const decisions = await Promise.all(
        Array.from({ length: 60 }, (_, i) => consume(i % 2 === 0 ? db : other.db)),
      );
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(20);
      expect(await counterAmount(db, bucket, at(0))).toBe(20);
      // Either pool now sees the bucket full.
      expect((await consume(other.db)).allowed).toBe(false);
      expect((await consume(db)).allowed).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('does not consume anything for a refused request', async () => {
    const bucket = 'key:refusals:requests';
    const limits = { bucket, windowSeconds: MINUTE, limit: 3, now: at(10) };
    expect((await consumeRateLimit(db, { ...limits, amount: 2 })).allowed).toBe(true);
    // 2 + 2 > 3: refused, and the counter stays at 2.
    const refused = await consumeRateLimit(db, { ...limits, amount: 2 });
    expect(refused).toMatchObject({ allowed: false, used: 2, limit: 3 });
    expect(await counterAmount(db, bucket, at(0))).toBe(2);
    for (let i = 0; i < 5; i++)
      expect((await consumeRateLimit(db, { ...limits, amount: 5 })).allowed).toBe(false);
    expect(await counterAmount(db, bucket, at(0))).toBe(2);
    // The room the refusals did not take is still there.
    expect(await consumeRateLimit(db, limits)).toMatchObject({
      allowed: true,
      used: 3,
      retryAfterSeconds: 0,
    });
    expect(await counterAmount(db, bucket, at(0))).toBe(3);
  });

  it('throws a rate_limited error with the seconds to wait when enforcing a full bucket', async () => {
    const limits = { bucket: 'key:enforced:requests', windowSeconds: MINUTE, limit: 2, now: at(10) };
    const name = 'requests_per_minute';
    await enforceRateLimit(db, { ...limits, name });
    await enforceRateLimit(db, { ...limits, name });
    const error = await enforceRateLimit(db, { ...limits, name }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 80 });
    expect((error as Error).message).toContain('requests_per_minute is 2');
    expect(await counterAmount(db, limits.bucket, at(0))).toBe(2);
  });

  it('refuses without creating a row when the request alone is over the limit', async () => {
    const bucket = 'key:too-big:requests';
    const decision = await consumeRateLimit(db, {
      bucket,
      windowSeconds: MINUTE,
      limit: 3,
      amount: 4,
      now: at(10),
    });
    expect(decision).toMatchObject({ allowed: false, used: 0 });
    expect(await counterAmount(db, bucket, at(0))).toBeNull();
  });

  it('rolls over to a new window, carrying the previous window weighted by its share still inside', async () => {
    const bucket = 'key:rollover:requests';
    const consume = (seconds: number) =>
      consumeRateLimit(db, { bucket, windowSeconds: MINUTE, limit: 3, now: at(seconds) });
    for (let i = 0; i < 3; i++) expect((await consume(50)).allowed).toBe(true);
    expect((await consume(59)).allowed).toBe(false);
    // 10 s into the next window, 50/60 of the previous 3 still count (2.5): one more would make 3.5.
    expect(await consume(70)).toMatchObject({ allowed: false, used: 2.5 });
    // 40 s in, 20/60 of 3 count (1): two more fit, a third does not.
    expect(await consume(100)).toMatchObject({ allowed: true, used: 2 });
    expect(await consume(100)).toMatchObject({ allowed: true, used: 3 });
    expect((await consume(100)).allowed).toBe(false);
    expect(await counterAmount(db, bucket, at(0))).toBe(3);
    expect(await counterAmount(db, bucket, at(60))).toBe(2);
    // Two windows on, the first no longer counts and the second is carried at 59/60.
    expect(await consume(121)).toMatchObject({ allowed: true });
    expect(await counterAmount(db, bucket, at(120))).toBe(1);
    // Far later, the bucket is empty again.
    for (let i = 0; i < 3; i++) expect((await consume(600)).allowed).toBe(true);
    expect((await consume(600)).allowed).toBe(false);
  });

  it('gives a retryAfterSeconds after which the request is allowed, and before which it is not', async () => {
    const bucket = 'key:retry:requests';
    const limits = { bucket, windowSeconds: MINUTE, limit: 3 };
    for (let i = 0; i < 3; i++) await consumeRateLimit(db, { ...limits, now: at(10) });
    // Full at 10 s with nothing before: allowed once 3 * (60 - t) / 60 + 1 <= 3 in the next window,
    // i.e. 20 s into it: 70 s from now.
    const refused = await consumeRateLimit(db, { ...limits, now: at(10) });
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 70 });
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(2 * MINUTE);
    expect((await consumeRateLimit(db, { ...limits, now: at(10 + 69) })).allowed).toBe(false);
    expect(await consumeRateLimit(db, { ...limits, now: at(10 + 70) })).toMatchObject({
      allowed: true,
      retryAfterSeconds: 0,
    });
    // Inside a window the previous one slides out: at 81 s the bucket holds 1 + 3 * 39/60, so one more
    // fits once the carried part falls to 1, 40 s into the window; the wait is within the window.
    const inWindow = await consumeRateLimit(db, { ...limits, now: at(81) });
    expect(inWindow.allowed).toBe(false);
    expect(inWindow.retryAfterSeconds).toBeGreaterThan(0);
    expect(inWindow.retryAfterSeconds).toBeLessThanOrEqual(MINUTE);
    const retryAt = 81 + inWindow.retryAfterSeconds;
    expect((await consumeRateLimit(db, { ...limits, now: at(retryAt - 1) })).allowed).toBe(false);
    expect((await consumeRateLimit(db, { ...limits, now: at(retryAt) })).allowed).toBe(true);
  });

  it('counts a spend quota in exact fractions of a dollar', async () => {
    const bucket = 'project:spend:llm_spend';
    const quota = { bucket, windowSeconds: DAY, limit: 0.3 };
    // 0.1 + 0.1 + 0.1 is 0.30000000000000004 in floating point: numeric keeps it at 0.3 and within 0.3.
    for (let i = 0; i < 3; i++) {
      expect((await consumeRateLimit(db, { ...quota, amount: 0.1, now: at(3600 + i) })).allowed).toBe(true);
    }
    const refused = await consumeRateLimit(db, { ...quota, amount: 0.0001, now: at(7200) });
    expect(refused).toMatchObject({ allowed: false, used: 0.3, limit: 0.3 });
    expect(await counterAmount(db, bucket, at(0))).toBe(0.3);

    // A cost known only after the call: checked before, recorded whatever the usage.
    const other = { bucket: 'project:spend-after:llm_spend', windowSeconds: DAY, limit: 1 };
    expect((await checkRateLimit(db, { ...other, now: at(60) })).allowed).toBe(true);
    expect(await recordRateLimitUsage(db, { ...other, amount: 0.75, now: at(60) })).toEqual({ used: 0.75 });
    expect(await checkRateLimit(db, { ...other, now: at(61) })).toMatchObject({ allowed: true, used: 0.75 });
    expect(await recordRateLimitUsage(db, { ...other, amount: 0.5, now: at(62) })).toEqual({ used: 1.25 });
    const over = await checkRateLimit(db, { ...other, now: at(63) });
    expect(over).toMatchObject({ allowed: false, used: 1.25 });
    // Over by 0.25 with the whole day still ahead: allowed once 1.25 * (1 - t/DAY) < 1 the next day.
    expect(over.retryAfterSeconds).toBe(DAY - 63 + Math.floor(DAY * 0.2) + 1);
    expect(await counterAmount(db, other.bucket, at(0))).toBe(1.25);
  });

  it("uses the database's clock when no instant is given", async () => {
    const bucket = 'key:clock:requests';
    const decision = await consumeRateLimit(db, { bucket, windowSeconds: MINUTE, limit: 5 });
    expect(decision).toMatchObject({ allowed: true, used: 1 });
    const { rows } = await sql<{ window_start: Date; now: Date }>`
      SELECT window_start, now() AS now FROM rate_limit_counters WHERE bucket = ${bucket}
    `.execute(db);
    const row = rows[0];
    expect(row).toBeDefined();
    if (!row) return;
    expect(row.window_start.getTime() % 60_000).toBe(0);
    expect(row.now.getTime() - row.window_start.getTime()).toBeLessThan(2 * 60_000);
  });

  it('deletes old windows in bounded batches and keeps the recent ones', async () => {
    const prefix = 'cleanup';
    for (let i = 0; i < 7; i++) {
      await recordRateLimitUsage(db, {
        bucket: `${prefix}:${i}`,
        windowSeconds: MINUTE,
        amount: 1,
        now: at(-DAY * 10 + i),
      });
    }
    await recordRateLimitUsage(db, {
      bucket: `${prefix}:recent`,
      windowSeconds: MINUTE,
      amount: 1,
      now: at(0),
    });
    const countCleanupRows = async () => {
      const { rows } = await sql<{ count: number }>`
        SELECT count(*)::int AS count FROM rate_limit_counters WHERE bucket LIKE ${`${prefix}:%`}
      `.execute(db);
      return rows[0]?.count;
    };
    expect(await countCleanupRows()).toBe(8);
    // Two batches of 3 at most: 6 of the 7 old rows go, the seventh waits for the next run.
    expect(await deleteOldRateLimitWindows(db, at(-DAY), { batchSize: 3, maxBatches: 2 })).toBe(6);
    expect(await countCleanupRows()).toBe(2);
    expect(await deleteOldRateLimitWindows(db, at(-DAY), { batchSize: 3 })).toBe(1);
    expect(await countCleanupRows()).toBe(1);
    expect(await counterAmount(db, `${prefix}:recent`, at(0))).toBe(1);
  });

  it('runs the cleanup as a job that keeps every window a limit may still read', async () => {
    const hour = 60 * 60 * 1000;
    const old = {
      bucket: 'job:old',
      windowSeconds: DAY,
      amount: 1,
      now: new Date(Date.now() - 3 * DAY * 1000),
    };
    const kept = { bucket: 'job:kept', windowSeconds: DAY, amount: 1, now: new Date(Date.now() - 25 * hour) };
    await recordRateLimitUsage(db, old);
    await recordRateLimitUsage(db, kept);
    const job = createRateLimitJobs(db)[DELETE_OLD_RATE_LIMIT_WINDOWS_JOB];
    const logged: string[] = [];
    const helpers = { logger: { debug: (message: string) => logged.push(message) } };
    await job?.({}, helpers as unknown as Parameters<NonNullable<typeof job>>[1]);
    const { rows } = await sql<{ bucket: string }>`
      SELECT bucket FROM rate_limit_counters WHERE bucket LIKE 'job:%'
    `.execute(db);
    // Yesterday's day window is the previous window of today's: still read by the sliding estimate.
    expect(rows.map((row) => row.bucket)).toEqual(['job:kept']);
    expect(logged).toHaveLength(1);
  });
});
