/**
 * Writes bench/arena/example-battles.json: battles in FastChat's format (model_a, model_b, winner,
 * tstamp, judge, anony, category) drawn from known strengths, so an import followed by
 * GET /api/arena/leaderboard can be checked against the truth printed here.
 *
 *   npx tsx bench/arena/generate-example-battles.ts [--battles 400] [--seed 7] [--out FILE]
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '../../src/lib/random.js';

/** True Arena ratings (mean 1000) of the example contestants, overall; coding shifts two of them. */
export const EXAMPLE_STRENGTHS: Readonly<Record<string, number>> = {
  'gpt-4o': 1180,
  'claude-3.5-sonnet': 1150,
  'llama-3-70b': 1020,
  'mixtral-8x7b': 940,
  'gemma-7b': 860,
  'vicuna-13b': 850,
};
const CODING_SHIFT: Readonly<Record<string, number>> = { 'claude-3.5-sonnet': 60, 'gemma-7b': -40 };
const CATEGORIES = ['general', 'coding', 'writing'] as const;
const START_SECONDS = 1_717_200_000;

export function drawExampleBattles(count: number, seed: number) {
  const random = createRng(seed);
  const models = Object.keys(EXAMPLE_STRENGTHS);
  return Array.from({ length: count }, (_, index) => {
    const a = models[Math.floor(random() * models.length)] as string;
    let b = a;
    while (b === a) b = models[Math.floor(random() * models.length)] as string;
    const category = CATEGORIES[Math.floor(random() * CATEGORIES.length)] as (typeof CATEGORIES)[number];
    const strength = (model: string) =>
      (EXAMPLE_STRENGTHS[model] as number) + (category === 'coding' ? (CODING_SHIFT[model] ?? 0) : 0);
    const p = 1 / (1 + 10 ** ((strength(b) - strength(a)) / 400));
    // Ties keep A's expected points at p (a tie is half a win): 30% of the rarer outcome becomes a tie.
    const tie = 0.3 * Math.min(p, 1 - p);
    const draw = random();
    const winner =
      draw < p - tie / 2 ? 'model_a' : draw < p + tie / 2 ? (draw < p ? 'tie' : 'tie (bothbad)') : 'model_b';
    return {
      question_id: `example-${seed}-${index}`,
      model_a: a,
      model_b: b,
      winner,
      judge: `arena_user_${Math.floor(random() * 40)}`,
      anony: random() < 0.8,
      category,
      tstamp: START_SECONDS + index * 97.5,
    };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      battles: { type: 'string', default: '400' },
      seed: { type: 'string', default: '7' },
      out: { type: 'string', default: path.join(import.meta.dirname, 'example-battles.json') },
    },
  });
  const battles = drawExampleBattles(Number(values.battles), Number(values.seed));
  await fs.writeFile(values.out, `${JSON.stringify(battles, null, 2)}\n`);
  console.log(`Wrote ${battles.length} battles (seed ${values.seed}) to ${values.out}`);
  console.log('True overall ratings (coding: claude-3.5-sonnet +60, gemma-7b -40):');
  for (const [model, rating] of Object.entries(EXAMPLE_STRENGTHS))
    console.log(`  ${model.padEnd(20)} ${rating}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
