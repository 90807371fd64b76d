/**
 * Arena domain values: FastChat's battle format as Merit reads it (from the API and from files), the
 * stable key that makes a re-sent or re-imported battle a no-op, and the blind comparison's vote.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ArenaBattleSource, ArenaVote, ArenaWinner } from '../db/database.js';
import { ARENA_OUTCOMES } from './bradley-terry.js';

export const ARENA_VOTES: readonly ArenaVote[] = ['A', 'B', 'tie', 'bothbad'];
export const MAX_CONTESTANT_NAME_CHARS = 200;
export const MAX_CATEGORY_CHARS = 100;

const contestantName = z.string().trim().min(1).max(MAX_CONTESTANT_NAME_CHARS);

/**
 * FastChat's timestamp is seconds since the epoch (a float); an ISO 8601 string is accepted too.
 * Between 2000 and 2100, so milliseconds passed as seconds are refused rather than stored in year 50,000.
 */
export const battleTimestamp = z.union([
  z
    .number()
    .min(946_684_800, 'must be seconds since 1970 after 2000 (FastChat tstamp)')
    .max(4_102_444_800, 'must be seconds since 1970 before 2100 (FastChat tstamp)'),
  z.iso.datetime({ offset: true }),
]);

/** One battle row of FastChat's format: unknown fields (conversations, turn, question_id...) are ignored. */
export const fastChatBattleSchema = z.object({
  model_a: contestantName,
  model_b: contestantName,
  winner: z.enum(ARENA_OUTCOMES as [ArenaWinner, ...ArenaWinner[]]),
  tstamp: battleTimestamp.optional(),
  judge: z.string().trim().min(1).max(200).optional(),
  anony: z.boolean().optional(),
  category: z.string().trim().min(1).max(MAX_CATEGORY_CHARS).nullable().optional(),
  language: z.string().trim().min(1).max(MAX_CATEGORY_CHARS).nullable().optional(),
});

export type FastChatBattle = z.infer<typeof fastChatBattleSchema>;

/** A battle ready to store, its contestants still as the names the source used. */
export interface BattleInput {
  modelA: string;
  modelB: string;
  winner: ArenaWinner;
  category: string | null;
  judge: string;
  source: ArenaBattleSource;
  anony: boolean | null;
  tstamp: Date | null;
  command: string | null;
  externalKey: string | null;
}

export function toBattleTimestamp(value: number | string | undefined): Date | null {
  if (value === undefined) return null;
  return typeof value === 'number' ? new Date(Math.round(value * 1000)) : new Date(value);
}

/** The category of a FastChat row: its category, else its language, else none. */
export function categoryOfRow(row: Pick<FastChatBattle, 'category' | 'language'>): string | null {
  return row.category ?? row.language ?? null;
}

/** JSON with object keys sorted at every level: the same row always prints the same. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The stable key of each imported row: a hash of the whole row as written, plus how many identical rows
 * came before it in the file, so a re-import adds nothing and two identical battles both count.
 */
export function importKeysOfRows(rows: readonly unknown[]): string[] {
  const seen = new Map<string, number>();
  return rows.map((row) => {
    const digest = createHash('sha256').update(stableStringify(row)).digest('hex');
    const occurrence = seen.get(digest) ?? 0;
    seen.set(digest, occurrence + 1);
    return `import:${digest.slice(0, 40)}:${occurrence}`;
  });
}

/** A vote on a blind comparison as a FastChat winner: A is model_a, B is model_b. */
export function winnerOfVote(vote: ArenaVote): ArenaWinner {
  if (vote === 'A') return 'model_a';
  if (vote === 'B') return 'model_b';
  return vote === 'tie' ? 'tie' : 'tie (bothbad)';
}
