/**
 * Tuning harness for the router's exploration (not part of `npm run bench:routing`): runs variants of the
 * router's options against the greedy rule on the simulation and prints merit/greedy ratios per shape.
 * Tune on seeds disjoint from the reported ones (`npm run bench:routing` reports seeds 1-100; the
 * parameters in docs/ROUTING.md were chosen on seeds 1001-1100).
 *
 *   npx tsx bench/routing/tune.ts --shapes 6x8,8x5,4x10,12x12 --seeds 30 --first-seed 1001 \
 *     --variant 'as-committed={}' --variant 'plain={"explorationShare":0,"satisficingMargin":0}'
 *     --variant 'recorded={"pendingCorrection":"none"}'
 */
import { parseArgs } from 'node:util';
import { hashSeed } from '../../src/lib/random.js';
import { chooseAgent, chooseGreedy, type RouterOptions } from '../../src/routing/router.js';
import { computeMean, computeQuantile } from '../support.js';
import { createWorld, type Policy, runPolicy, type SimulationConfig } from './simulation.js';

/** "name=JSON" into the variant's name and router options. */
function parseVariant(text: string): [string, Partial<RouterOptions>] {
  const split = text.indexOf('=');
  if (split < 1) throw new Error(`--variant: '${text}' is not NAME=JSON`);
  return [text.slice(0, split), JSON.parse(text.slice(split + 1)) as Partial<RouterOptions>];
}

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: '6x8,8x5,4x10,12x12' },
    seeds: { type: 'string', default: '30' },
    'first-seed': { type: 'string', default: '1001' },
    tasks: { type: 'string', default: '3000' },
    'feedback-rate': { type: 'string', default: '0.6' },
    variant: { type: 'string', multiple: true, default: ['as-committed={}'] },
  },
});
const variants = (values.variant ?? []).map(parseVariant);
const rows: string[] = [];
for (const shape of String(values.shapes).split(',')) {
  const [agents, categories] = shape.split('x').map(Number) as [number, number];
  const config: SimulationConfig = {
    declare: 'none',
    agents,
    categories,
    tasks: Number(values.tasks),
    feedbackRate: Number(values['feedback-rate']),
    maxFeedbackDelay: 60,
  };
  const greedy: number[] = [];
  const finals = variants.map((): number[] => []);
  const seeds = Number(values.seeds);
  for (let i = 0; i < seeds; i++) {
    const seed = Number(values['first-seed']) + i;
    const { team, draws } = createWorld(config, seed);
    const greedyPolicy: Policy = (request) => chooseGreedy(request).agentId;
    greedy.push(
      runPolicy(greedyPolicy, config, team, draws, hashSeed(`greedy-${seed}`))[config.tasks - 1] ?? 0,
    );
    variants.forEach(([, options], v) => {
      const policy: Policy = (request) => chooseAgent(request, options).agentId;
      const regret = runPolicy(policy, config, team, draws, hashSeed(`merit-${seed}`));
      finals[v]?.push(regret[config.tasks - 1] ?? 0);
    });
    process.stderr.write(`\r${shape} ${i + 1}/${seeds}`);
  }
  process.stderr.write('\n');
  const greedyMean = computeMean(greedy);
  const greedyP90 = computeQuantile(greedy, 0.9);
  variants.forEach(([name], v) => {
    const merit = finals[v] ?? [];
    const mean = computeMean(merit);
    rows.push(
      `${shape.padEnd(6)} ${name.padEnd(24)} mean ${(mean / greedyMean).toFixed(3)} p90 ${(computeQuantile(merit, 0.9) / greedyP90).toFixed(3)}` +
        `  (merit ${mean.toFixed(1)}, greedy ${greedyMean.toFixed(1)})`,
    );
  });
}
console.log(rows.join('\n'));
