import { type Kysely, sql } from 'kysely';

/**
 * Runs a migration script statement by statement (the extended protocol that Kysely uses accepts one
 * statement per query). Statements are separated by a semicolon at the end of a line.
 */
export async function executeScript(db: Kysely<unknown>, script: string): Promise<void> {
  const statements = script
    .split(/;\s*\n/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}
