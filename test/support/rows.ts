import type pg from 'pg';

/**
 * Rows in every table (Merit's by name, graphile-worker's as schema.table): equal snapshots mean nothing
 * was written.
 */
export async function countAllRows(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows: tables } = await pool.query<{ name: string; qualified: string }>(
    `SELECT CASE table_schema WHEN 'public' THEN table_name ELSE table_schema || '.' || table_name END AS name,
            format('%I.%I', table_schema, table_name) AS qualified
       FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1`,
  );
  const { rows } = await pool.query<{ name: string; n: number }>(
    tables
      .map((table) => `SELECT ${pgLiteral(table.name)} AS name, count(*)::int AS n FROM ${table.qualified}`)
      .join(' UNION ALL '),
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.n]));
}

function pgLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
