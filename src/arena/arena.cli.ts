import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { loadConfig } from '../config.js';
import { openDatabase, prepareDatabase } from '../db/bootstrap.js';
import type { Database } from '../db/database.js';
import { runTransaction } from '../db/transaction.js';
import { ValidationError } from '../errors.js';
import { findProjectBySlug } from '../identity/identity.queries.js';
import { DEFAULT_PROJECT_SLUG } from '../identity/scope.js';
import { createProgress } from '../lib/progress.js';
import {
  type BattleInput,
  categoryOfRow,
  fastChatBattleSchema,
  importKeysOfRows,
  toBattleTimestamp,
} from './arena.js';
import { storeBattles } from './arena.service.js';

/** `npx merit arena import FILE`: FastChat battles into a project. */

export const ARENA_HELP = `  arena import FILE  Import Arena battles in FastChat's format (a JSON array of {model_a, model_b,
                       winner, tstamp?, judge?, anony?, category? or language?}); unknown contestants
                       become external agents; importing the same file again adds nothing
                       [--project SLUG (default)]  [--judge NAME (rows without a judge; default import:FILE)]`;

/** Rows stored per statement (each row is a dozen parameters; PostgreSQL takes at most 65,535). */
const IMPORT_CHUNK = 1000;
/** Problems listed before the rest are only counted. */
const MAX_LISTED_PROBLEMS = 10;
const MAX_COMMAND_CHARS = 20_000;

export class ArenaUsageError extends Error {}

export interface ImportSummary {
  rows: number;
  imported: number;
  duplicates: number;
  contestants: number;
  newAgents: string[];
  projectSlug: string;
  elapsedMs: number;
}

/** The first user turn of a FastChat conversation, as the battle's command (null when absent). */
function commandOfRow(row: unknown): string | null {
  const conversation = (row as { conversation_a?: unknown }).conversation_a;
  if (!Array.isArray(conversation)) return null;
  const turn = conversation.find(
    (item): item is { role: string; content: string } =>
      typeof item === 'object' &&
      item !== null &&
      (item as { role?: unknown }).role === 'user' &&
      typeof (item as { content?: unknown }).content === 'string',
  );
  const text = turn?.content.replaceAll('\u0000', '').trim();
  return text ? text.slice(0, MAX_COMMAND_CHARS) : null;
}

/**
 * Reads and validates a whole FastChat battle file; any invalid row refuses the file (naming the rows
 * and fields), so a bad file changes nothing.
 */
export function parseBattleFile(text: string, options: { defaultJudge: string }): BattleInput[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ArenaUsageError(`the file is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data)) throw new ArenaUsageError('the file must hold a JSON array of battles');
  if (data.length === 0) throw new ArenaUsageError('the file holds no battles');
  const keys = importKeysOfRows(data);
  const problems: string[] = [];
  const battles: BattleInput[] = [];
  data.forEach((row, index) => {
    const parsed = fastChatBattleSchema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push(`row ${index}: ${issue?.path.join('.') || 'row'}: ${issue?.message ?? 'invalid'}`);
      return;
    }
    const battle = parsed.data;
    const texts = [battle.model_a, battle.model_b, battle.judge, battle.category, battle.language];
    // PostgreSQL text cannot hold U+0000.
    if (texts.some((value) => value?.includes('\u0000'))) {
      problems.push(`row ${index}: contains a NUL character`);
      return;
    }
    if (battle.model_a === battle.model_b) {
      problems.push(`row ${index}: model_b: names the same contestant as model_a`);
      return;
    }
    battles.push({
      modelA: battle.model_a,
      modelB: battle.model_b,
      winner: battle.winner,
      category: categoryOfRow(battle),
      judge: battle.judge ?? options.defaultJudge,
      source: 'import',
      anony: battle.anony ?? null,
      tstamp: toBattleTimestamp(battle.tstamp),
      command: commandOfRow(row),
      externalKey: keys[index] as string,
    });
  });
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS).join('\n  ');
    const more =
      problems.length > MAX_LISTED_PROBLEMS
        ? `\n  ... and ${problems.length - MAX_LISTED_PROBLEMS} more`
        : '';
    throw new ArenaUsageError(
      `${problems.length} of ${data.length} rows are invalid; nothing was imported:\n  ${listed}${more}`,
    );
  }
  return battles;
}

/** Stores the battles in one transaction, in chunks, reporting progress. */
export async function importBattles(
  db: Kysely<Database>,
  input: { projectSlug: string; battles: readonly BattleInput[]; progress: 'bar' | 'lines' | 'silent' },
): Promise<ImportSummary> {
  const started = Date.now();
  const project = await findProjectBySlug(db, input.projectSlug);
  if (!project) {
    throw new ArenaUsageError(
      `no project ${input.projectSlug} (create it with: npx merit projects create ${input.projectSlug})`,
    );
  }
  const progress = createProgress('Importing battles', input.battles.length, input.progress);
  const totals = await runTransaction(db, async (trx) => {
    let imported = 0;
    let duplicates = 0;
    const newAgents = new Set<string>();
    for (let start = 0; start < input.battles.length; start += IMPORT_CHUNK) {
      const chunk = input.battles.slice(start, start + IMPORT_CHUNK);
      const stored = await storeBattles(trx, project.id, chunk, {
        recordedBy: null,
        fieldPrefix: 'row',
        firstIndex: start,
      });
      imported += stored.accepted;
      duplicates += stored.duplicates;
      for (const agent of stored.new_agents) newAgents.add(agent);
      progress.update(start + chunk.length);
    }
    return { imported, duplicates, newAgents: [...newAgents].sort() };
  });
  progress.finish();
  const contestants = new Set(input.battles.flatMap((battle) => [battle.modelA, battle.modelB])).size;
  return {
    rows: input.battles.length,
    ...totals,
    contestants,
    projectSlug: project.slug,
    elapsedMs: Date.now() - started,
  };
}

export function describeImport(summary: ImportSummary): string {
  const agents = summary.newAgents.length;
  return `Imported ${summary.imported} of ${summary.rows} battles (${summary.duplicates} already present) between ${summary.contestants} contestants (${agents} new external agent${agents === 1 ? '' : 's'}) into project ${summary.projectSlug} in ${(summary.elapsedMs / 1000).toFixed(1)} s.`;
}

/** The `arena` command of the CLI: its own database connection, exit code 2 for bad input. */
export async function runArenaCli(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  try {
    if (action !== 'import')
      throw new ArenaUsageError(`unknown arena command '${action ?? ''}' (try: arena import FILE)`);
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { project: { type: 'string', default: DEFAULT_PROJECT_SLUG }, judge: { type: 'string' } },
    });
    const file = positionals[0];
    if (file === undefined || positionals.length > 1)
      throw new ArenaUsageError('give exactly one FILE to import');
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      throw new ArenaUsageError(
        `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    const battles = parseBattleFile(text, { defaultJudge: values.judge ?? `import:${path.basename(file)}` });
    // An import writes one long transaction: the per-statement timeout meant for requests does not apply.
    const config = loadConfig({ ...process.env, MERIT_DB_STATEMENT_TIMEOUT_MS: '0' });
    const database = await openDatabase(config, (message) => console.error(message));
    try {
      await prepareDatabase(database.handle);
      const summary = await importBattles(database.handle.db, {
        projectSlug: values.project,
        battles,
        progress: process.stderr.isTTY ? 'bar' : 'lines',
      });
      console.log(describeImport(summary));
      return 0;
    } finally {
      await database.close();
    }
  } catch (error) {
    if (error instanceof ArenaUsageError || error instanceof ValidationError) {
      console.error(`merit arena: ${error.message}`);
      return 2;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`merit arena: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
