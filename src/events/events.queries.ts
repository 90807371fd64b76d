import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/database.js';

/** The channel every Merit process LISTENs on. */
export const EVENTS_CHANNEL = 'merit_events';

/**
 * Sends notifications on EVENTS_CHANNEL. With a transaction as `db` they are delivered when (and only
 * if) it commits; PostgreSQL delivers them to every listening session, the sender's included.
 */
export async function notifyEvents(db: Kysely<Database>, payloads: readonly string[]): Promise<void> {
  if (payloads.length === 0) return;
  await sql`SELECT pg_notify(${EVENTS_CHANNEL}, p) FROM unnest(${payloads}::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n`.execute(
    db,
  );
}

/** Subscribes `client` (a connection of its own) to EVENTS_CHANNEL. */
export async function listenForEvents(client: pg.ClientBase): Promise<void> {
  await client.query(`LISTEN ${EVENTS_CHANNEL}`);
}
