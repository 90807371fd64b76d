import type pg from 'pg';

/**
 * The parts of a schema that Merit's migrations create and that a repair can restore: tables with their
 * columns, constraints, indexes that back no constraint, and views. Definitions are printed by
 * PostgreSQL itself (pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef) with unqualified names.
 */
export interface SchemaShape {
  tables: string[];
  columns: ColumnShape[];
  constraints: ConstraintShape[];
  indexes: IndexShape[];
  views: ViewShape[];
  triggers: TriggerShape[];
}

export interface ColumnShape {
  table: string;
  name: string;
  type: string;
  default: string | null;
  notNull: boolean;
  /** '' or 'a' (GENERATED ALWAYS AS IDENTITY) or 'd' (BY DEFAULT). */
  identity: string;
  /** '' or 's' (GENERATED ALWAYS AS (default) STORED). */
  generated: string;
}

export interface ConstraintShape {
  table: string;
  name: string;
  /** p primary key, u unique, x exclusion, c check, f foreign key. */
  type: 'p' | 'u' | 'x' | 'c' | 'f';
  definition: string;
  validated: boolean;
}

export interface IndexShape {
  table: string;
  name: string;
  /** CREATE INDEX ... ON <table> ..., with the table unqualified. */
  definition: string;
}

export interface ViewShape {
  name: string;
  definition: string;
}

export interface TriggerShape {
  table: string;
  name: string;
  /** CREATE TRIGGER ... ON <table> ..., with the table and function unqualified. */
  definition: string;
}

/** What a live schema lacks compared with the reference, and the statements that restore it. */
export interface SchemaRepairPlan {
  /** One line per restored object, e.g. "table objective_templates" (its keys and indexes implied). */
  missing: string[];
  statements: string[];
}

/**
 * Reads the shape of `schema`. Call it with `schema` first in the session's search_path, so that
 * PostgreSQL prints references to the schema's own tables without qualification.
 */
export async function readSchemaShape(client: pg.ClientBase, schema: string): Promise<SchemaShape> {
  const tables = await client.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class
     WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND relkind IN ('r', 'p') ORDER BY oid`,
    [schema],
  );
  const columns = await client.query<ColumnShape>(
    `SELECT c.relname AS "table", a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            pg_get_expr(d.adbin, d.adrelid) AS "default", a.attnotnull AS "notNull",
            a.attidentity::text AS identity, a.attgenerated::text AS generated
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.oid, a.attnum`,
    [schema],
  );
  // NOT NULL (contype 'n' from PostgreSQL 18) is part of the column; triggers' constraints are not Merit's.
  const constraints = await client.query<ConstraintShape>(
    `SELECT c.relname AS "table", con.conname AS name, con.contype::text AS type,
            pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
     WHERE con.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND con.contype IN ('p', 'u', 'x', 'c', 'f')
     ORDER BY con.oid`,
    [schema],
  );
  const indexes = await client.query<IndexShape>(
    `SELECT t.relname AS "table", i.relname AS name, pg_get_indexdef(i.oid) AS definition
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_class t ON t.oid = x.indrelid
     WHERE i.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND t.relkind IN ('r', 'p')
       AND NOT EXISTS (
         SELECT 1 FROM pg_constraint con
         WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
       )
     ORDER BY i.oid`,
    [schema],
  );
  const views = await client.query<ViewShape>(
    `SELECT relname AS name, pg_get_viewdef(oid) AS definition FROM pg_class
     WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND relkind = 'v' ORDER BY oid`,
    [schema],
  );
  const triggers = await client.query<TriggerShape>(
    `SELECT c.relname AS "table", t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND NOT t.tgisinternal
     ORDER BY t.oid`,
    [schema],
  );
  // pg_get_indexdef always qualifies the table (schema names here need no quotes); the repair creates
  // the index in the live schema.
  const qualified = new RegExp(` ON (ONLY )?${escapeRegExp(schema)}\\.`);
  return {
    tables: tables.rows.map((row) => row.name),
    columns: columns.rows,
    constraints: constraints.rows,
    indexes: indexes.rows.map((index) => ({
      ...index,
      definition: index.definition.replace(qualified, ' ON $1'),
    })),
    views: views.rows.map((view) => ({ ...view, definition: view.definition.trim().replace(/;$/, '') })),
    triggers: triggers.rows.map((trigger) => ({
      ...trigger,
      definition: trigger.definition.replaceAll(`${schema}.`, ''),
    })),
  };
}

/**
 * A digest of the names a repair looks at (tables, views, indexes, columns, constraints and whether
 * each is validated): one cheap catalog query, which changes whenever something is dropped or added.
 */
export async function fingerprintSchema(client: pg.ClientBase, schema: string): Promise<string> {
  const { rows } = await client.query<{ digest: string | null }>(
    `WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1)
     SELECT md5(string_agg(item, ',' ORDER BY item)) AS digest FROM (
       SELECT 'relation ' || relkind::text || ' ' || relname AS item FROM pg_class
       WHERE relnamespace = (SELECT oid FROM ns) AND relkind IN ('r', 'p', 'v', 'i')
       UNION ALL
       SELECT 'column ' || c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
       UNION ALL
       SELECT 'constraint ' || c.relname || '.' || con.conname || ' ' || con.convalidated::text
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
       WHERE con.connamespace = (SELECT oid FROM ns)
       UNION ALL
       SELECT 'trigger ' || c.relname || '.' || t.tgname
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
     ) AS inventory`,
    [schema],
  );
  return rows[0]?.digest ?? '';
}

/**
 * Compares a live schema with the reference (what the migrations create) and plans the statements that
 * recreate whatever is missing, in dependency order: tables, columns, constraints, indexes, views,
 * triggers.
 * Nothing that exists is changed or dropped. A constraint added to a table that already has rows is
 * added NOT VALID (new rows are checked at once) and validated afterwards by `validateConstraints`.
 */
export function planSchemaRepair(reference: SchemaShape, live: SchemaShape): SchemaRepairPlan {
  const missing: string[] = [];
  const statements: string[] = [];
  const liveTables = new Set(live.tables);
  const liveColumns = new Set(live.columns.map((column) => `${column.table}.${column.name}`));
  const liveConstraints = new Set(
    live.constraints.map((constraint) => `${constraint.table}.${constraint.name}`),
  );
  const liveIndexes = new Set(live.indexes.map((index) => index.name));
  const liveViews = new Set(live.views.map((view) => view.name));
  const liveTriggers = new Set(live.triggers.map((trigger) => `${trigger.table}.${trigger.name}`));
  const createdTables = new Set(reference.tables.filter((table) => !liveTables.has(table)));

  for (const table of createdTables) {
    const columns = reference.columns.filter((column) => column.table === table).map(describeColumn);
    statements.push(`CREATE TABLE ${quoteIdentifier(table)} (\n  ${columns.join(',\n  ')}\n)`);
    missing.push(`table ${table}`);
  }
  for (const column of reference.columns) {
    if (createdTables.has(column.table) || liveColumns.has(`${column.table}.${column.name}`)) continue;
    statements.push(`ALTER TABLE ${quoteIdentifier(column.table)} ADD COLUMN ${describeColumn(column)}`);
    missing.push(`column ${column.table}.${column.name}`);
  }
  // A foreign key needs the referenced key first; checks and keys do not depend on each other.
  const order = ['p', 'u', 'x', 'c', 'f'];
  const constraints = [...reference.constraints].sort(
    (a, b) => order.indexOf(a.type) - order.indexOf(b.type),
  );
  for (const constraint of constraints) {
    if (liveConstraints.has(`${constraint.table}.${constraint.name}`)) continue;
    const deferValidation =
      !createdTables.has(constraint.table) && (constraint.type === 'c' || constraint.type === 'f');
    statements.push(
      `ALTER TABLE ${quoteIdentifier(constraint.table)} ADD CONSTRAINT ${quoteIdentifier(constraint.name)} ${constraint.definition}${deferValidation ? ' NOT VALID' : ''}`,
    );
    // A recreated table's own keys, checks and indexes go without saying.
    if (!createdTables.has(constraint.table))
      missing.push(`constraint ${constraint.name} on ${constraint.table}`);
  }
  for (const index of reference.indexes) {
    if (liveIndexes.has(index.name)) continue;
    statements.push(index.definition);
    if (!createdTables.has(index.table)) missing.push(`index ${index.name} on ${index.table}`);
  }
  for (const view of reference.views) {
    if (liveViews.has(view.name)) continue;
    statements.push(`CREATE VIEW ${quoteIdentifier(view.name)} AS\n${view.definition}`);
    missing.push(`view ${view.name}`);
  }
  for (const trigger of reference.triggers) {
    if (liveTriggers.has(`${trigger.table}.${trigger.name}`)) continue;
    statements.push(trigger.definition);
    if (!createdTables.has(trigger.table)) missing.push(`trigger ${trigger.name} on ${trigger.table}`);
  }
  return { missing, statements };
}

/** True when a constraint of the current schema is NOT VALID (a repair re-added it to kept rows). */
export async function hasUnvalidatedConstraints(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ pending: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_constraint WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND NOT convalidated
     ) AS pending`,
  );
  return rows[0]?.pending === true;
}

/**
 * Validates the constraints of the current schema that a repair added NOT VALID. One that rows kept
 * from before still break stays NOT VALID (it checks new rows) and comes back as a warning with
 * PostgreSQL's reason; the next run tries again.
 */
export async function validateConstraints(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table: string; name: string }>(
    `SELECT c.relname AS "table", con.conname AS name
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
     WHERE con.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND NOT con.convalidated ORDER BY con.oid`,
  );
  const warnings: string[] = [];
  for (const { table, name } of rows) {
    try {
      await pool.query(`ALTER TABLE ${quoteIdentifier(table)} VALIDATE CONSTRAINT ${quoteIdentifier(name)}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      warnings.push(
        `constraint ${name} on ${table} checks new rows only, as rows kept from before break it: ${reason}`,
      );
    }
  }
  return warnings;
}

function describeColumn(column: ColumnShape): string {
  const parts = [quoteIdentifier(column.name), column.type];
  if (column.generated === 's') parts.push(`GENERATED ALWAYS AS (${column.default}) STORED`);
  else if (column.default !== null) parts.push(`DEFAULT ${column.default}`);
  if (column.identity)
    parts.push(`GENERATED ${column.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`);
  if (column.notNull) parts.push('NOT NULL');
  return parts.join(' ');
}

/** Quotes a name as PostgreSQL's quote_ident would, but always. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
