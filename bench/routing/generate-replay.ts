/**
 * Writes example replay files for `npm run bench:routing -- --replay FILE.csv`: seeded synthetic outcomes of
 * teams whose dearer agents are better on average, with category strengths and per-prompt difficulty.
 *
 *   npx tsx bench/routing/generate-replay.ts [--seed 14] [--prompts 500] [--out bench/routing]
 *
 * One file per team shape, `replay-<agents>x<categories>.csv`, header `prompt,category,agent,score,cost`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng, hashSeed, sampleNormal } from '../../src/lib/random.js';

const SHAPES: [number, number][] = [
  [4, 3],
  [6, 5],
  [8, 8],
];

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** A CSV field, quoted when it holds a comma, quote or newline. */
function toCsvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function generateTeamCsv(agents: number, categories: number, prompts: number, seed: number): string {
  const random = createRng(hashSeed(`replay-${agents}x${categories}-${seed}`));
  // Prices from $0.0002 to $0.03 per prompt (log-uniform); skill rises with price, with exceptions.
  const team = Array.from({ length: agents }, (_, a) => {
    const position = random();
    const price = 0.0002 * (0.03 / 0.0002) ** position;
    const skill = 0.4 + 0.3 * position + 0.08 * sampleNormal(random);
    const quality = Array.from({ length: categories }, () =>
      clamp(skill + 0.1 * sampleNormal(random), 0.05, 0.95),
    );
    return { name: `agent_${String.fromCharCode(97 + a)}`, price, quality };
  });
  const weights = Array.from({ length: categories }, (_, c) => 1 / (c + 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const lines = ['prompt,category,agent,score,cost'];
  for (let p = 0; p < prompts; p++) {
    let threshold = random() * total;
    let category = 0;
    while (category < categories - 1 && threshold > (weights[category] ?? 0)) {
      threshold -= weights[category] ?? 0;
      category += 1;
    }
    const difficulty = 0.1 * sampleNormal(random);
    // Longer prompts cost every agent more.
    const length = Math.exp(0.3 * sampleNormal(random));
    for (const agent of team) {
      const score = clamp((agent.quality[category] ?? 0) - difficulty + 0.15 * sampleNormal(random), 0, 1);
      const cost = agent.price * length;
      lines.push(
        [
          toCsvField(`cat${category} prompt ${p}, variant ${seed}`),
          `cat${category}`,
          agent.name,
          score.toFixed(3),
          cost.toFixed(7),
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '14' },
      prompts: { type: 'string', default: '500' },
      out: { type: 'string', default: 'bench/routing' },
    },
  });
  for (const [agents, categories] of SHAPES) {
    const file = join(values.out, `replay-${agents}x${categories}.csv`);
    writeFileSync(file, generateTeamCsv(agents, categories, Number(values.prompts), Number(values.seed)));
    console.log(`wrote ${file}`);
  }
}

main();
