/**
 * Model prices in USD per 1M tokens. The shipped table is src/llm/prices.json (list prices, with the date
 * they were checked); a file named by MERIT_PRICES_FILE adds entries or overrides them. A model name is
 * matched exactly first, then against the declared patterns (globs or regular expressions, first match
 * wins, the override file's before the shipped ones); there is no implicit prefix matching, so
 * "claude-opus-4-5" is never priced as "claude-opus-4". An unknown model has no price (null), never 0.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../errors.js';

export interface ModelPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  /** Prompt tokens read from a prompt cache. */
  readonly cachedInputPerMillion: number;
  /** Prompt tokens written to a prompt cache (Anthropic bills them above the input price). */
  readonly cacheWritePerMillion: number;
  /** Reasoning tokens, which providers count inside the completion tokens. */
  readonly reasoningPerMillion: number;
}

/** Token counts of one or more calls; `promptTokens` includes the cached and cache-written ones. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens?: number | undefined;
  cacheWriteTokens?: number | undefined;
  reasoningTokens?: number | undefined;
}

interface PatternEntry {
  readonly test: (name: string) => boolean;
  readonly price: ModelPrice;
}

export interface PriceTable {
  /** The date the shipped prices were checked (or the override file's own date). */
  readonly checked: string | null;
  readonly exact: ReadonlyMap<string, ModelPrice>;
  readonly patterns: readonly PatternEntry[];
}

const perMillion = z.number().finite().min(0);
const priceFields = {
  input: perMillion,
  output: perMillion,
  cached_input: perMillion.optional(),
  cache_write: perMillion.optional(),
  reasoning: perMillion.optional(),
};
const modelEntrySchema = z.strictObject(priceFields);
const patternEntrySchema = z
  .strictObject({
    glob: z.string().min(1).optional(),
    regex: z.string().min(1).optional(),
    same_as: z.string().min(1).optional(),
    input: perMillion.optional(),
    output: perMillion.optional(),
    cached_input: perMillion.optional(),
    cache_write: perMillion.optional(),
    reasoning: perMillion.optional(),
  })
  .refine((entry) => (entry.glob === undefined) !== (entry.regex === undefined), {
    message: 'a pattern declares exactly one of glob or regex',
  })
  .refine((entry) => (entry.same_as !== undefined) !== (entry.input !== undefined), {
    message: 'a pattern gives either same_as (a model of the table) or its own input and output prices',
  })
  .refine((entry) => entry.same_as !== undefined || entry.output !== undefined, {
    message: 'a pattern with its own prices needs output',
  });
const priceFileSchema = z.strictObject({
  checked: z.string().optional(),
  unit: z.string().optional(),
  notes: z.array(z.string()).optional(),
  models: z.record(z.string().min(1), modelEntrySchema).default({}),
  patterns: z.array(patternEntrySchema).default([]),
});
type PriceFile = z.infer<typeof priceFileSchema>;

function toModelPrice(entry: z.infer<typeof modelEntrySchema>): ModelPrice {
  return Object.freeze({
    inputPerMillion: entry.input,
    outputPerMillion: entry.output,
    // Without a cache or reasoning price, those tokens are billed like the rest of their side.
    cachedInputPerMillion: entry.cached_input ?? entry.input,
    cacheWritePerMillion: entry.cache_write ?? entry.input,
    reasoningPerMillion: entry.reasoning ?? entry.output,
  });
}

function compilePattern(
  entry: z.infer<typeof patternEntrySchema>,
  source: string,
): (name: string) => boolean {
  if (entry.regex !== undefined) {
    let regex: RegExp;
    try {
      regex = new RegExp(entry.regex, 'i');
    } catch (error) {
      throw new ValidationError('patterns', `${source}: invalid regex '${entry.regex}'`, { cause: error });
    }
    return (name) => regex.test(name);
  }
  // A glob matches the whole name: * is any run of characters, ? one character.
  const body = (entry.glob as string)
    .toLowerCase()
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const glob = new RegExp(`^${body}$`);
  return (name) => glob.test(name);
}

/** Builds a table from price files, earliest first: a later file's entries win over an earlier one's. */
export function buildPriceTable(files: readonly { file: PriceFile; source: string }[]): PriceTable {
  const exact = new Map<string, ModelPrice>();
  for (const { file } of files) {
    for (const [name, entry] of Object.entries(file.models))
      exact.set(normalizeModelName(name), toModelPrice(entry));
  }
  const patterns: PatternEntry[] = [];
  for (const { file, source } of [...files].reverse()) {
    for (const entry of file.patterns) {
      let price: ModelPrice;
      if (entry.same_as !== undefined) {
        const target = exact.get(normalizeModelName(entry.same_as));
        if (!target) {
          throw new ValidationError(
            'patterns',
            `${source}: same_as names '${entry.same_as}', which has no price`,
          );
        }
        price = target;
      } else {
        price = toModelPrice({ ...entry, input: entry.input as number, output: entry.output as number });
      }
      patterns.push({ test: compilePattern(entry, source), price });
    }
  }
  const checked = [...files].reverse().find(({ file }) => file.checked !== undefined)?.file.checked ?? null;
  return Object.freeze({ checked, exact, patterns: Object.freeze(patterns) });
}

function parsePriceFile(text: string, source: string): PriceFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('MERIT_PRICES_FILE', `${source} is not JSON`, { cause: error });
  }
  const parsed = priceFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(
      'MERIT_PRICES_FILE',
      `${source}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid price file'}`,
    );
  }
  return parsed.data;
}

const SHIPPED_PATH = new URL('./prices.json', import.meta.url);
const SHIPPED_FILE = parsePriceFile(readFileSync(SHIPPED_PATH, 'utf8'), 'src/llm/prices.json');

/** The shipped table, plus the entries of the file at `overridePath` (which win) when one is given. */
export function loadPriceTable(overridePath?: string | undefined): PriceTable {
  const files = [{ file: SHIPPED_FILE, source: 'src/llm/prices.json' }];
  if (overridePath !== undefined) {
    let text: string;
    try {
      text = readFileSync(overridePath, 'utf8');
    } catch (error) {
      throw new ValidationError('MERIT_PRICES_FILE', `cannot read ${overridePath}`, { cause: error });
    }
    files.push({ file: parsePriceFile(text, overridePath), source: overridePath });
  }
  return buildPriceTable(files);
}

export const SHIPPED_PRICES: PriceTable = loadPriceTable();

// Process-wide, like the shipped file itself: set once at start from the configuration (createServices).
let activePrices: PriceTable = SHIPPED_PRICES;

/** Makes `table` the one every later estimate uses (the server installs the configured table at start). */
export function installPriceTable(table: PriceTable): void {
  activePrices = table;
}

/** The price for a model name, or null when the model is unknown. Case-insensitive; "org/" prefixes are ignored. */
export function findModelPrice(model: string, table: PriceTable = activePrices): ModelPrice | null {
  const name = normalizeModelName(model);
  return table.exact.get(name) ?? table.patterns.find((pattern) => pattern.test(name))?.price ?? null;
}

/**
 * Estimated cost in USD, rounded to 6 decimals; null when the model has no price. Cached and
 * cache-written prompt tokens and reasoning tokens are priced at their own rates when given.
 */
export function estimateCost(
  model: string,
  promptTokens: number,
  completionTokens: number,
  detail: Omit<TokenUsage, 'promptTokens' | 'completionTokens'> = {},
  table: PriceTable = activePrices,
): number | null {
  assertTokenCount('promptTokens', promptTokens);
  assertTokenCount('completionTokens', completionTokens);
  const cached = detail.cachedPromptTokens ?? 0;
  const written = detail.cacheWriteTokens ?? 0;
  const reasoning = detail.reasoningTokens ?? 0;
  assertTokenCount('cachedPromptTokens', cached);
  assertTokenCount('cacheWriteTokens', written);
  assertTokenCount('reasoningTokens', reasoning);
  const price = findModelPrice(model, table);
  if (price === null) return null;
  // The parts are inside the totals; a provider reporting more than the total is capped to it.
  const cachedPart = Math.min(cached, promptTokens);
  const writtenPart = Math.min(written, promptTokens - cachedPart);
  const reasoningPart = Math.min(reasoning, completionTokens);
  const cost =
    ((promptTokens - cachedPart - writtenPart) * price.inputPerMillion +
      cachedPart * price.cachedInputPerMillion +
      writtenPart * price.cacheWritePerMillion +
      (completionTokens - reasoningPart) * price.outputPerMillion +
      reasoningPart * price.reasoningPerMillion) /
    1_000_000;
  return Math.round(cost * 1_000_000) / 1_000_000;
}

// Hosted gateways (vLLM, OpenRouter) name models "openai/gpt-4o" or "Qwen/Qwen2.5-7B".
function normalizeModelName(model: string): string {
  const trimmed = model.trim().toLowerCase();
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function assertTokenCount(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new ValidationError(field, 'must be a non-negative number');
}
