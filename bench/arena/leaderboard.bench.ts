/**
 * How long the Arena leaderboard takes to compute (the fit plus the bootstrap, done in the request), by
 * number of battles, with the single maximum-likelihood fit measured in the same run as the baseline.
 *
 *   npx tsx bench/arena/leaderboard.bench.ts [--rounds 200]
 */
import { parseArgs } from 'node:util';
import {
  type ArenaOutcome,
  computeArenaLeaderboard,
  fitArenaRatings,
} from '../../src/arena/bradley-terry.js';
import { drawExampleBattles } from './generate-example-battles.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '200' } } });
const rounds = Number(values.rounds);

function time(work: () => void): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

console.log(`Arena leaderboard, 6 agents, ${rounds} bootstrap rounds (times in ms)`);
console.log('battles    fit only (baseline)    leaderboard    ratio');
for (const count of [400, 4_000, 40_000, 100_000]) {
  const battles = drawExampleBattles(count, 1).map((row) => ({
    agentA: row.model_a,
    agentB: row.model_b,
    winner: row.winner as ArenaOutcome,
  }));
  const fit = time(() => fitArenaRatings(battles));
  const board = time(() => computeArenaLeaderboard(battles, { rounds }));
  console.log(
    `${String(count).padStart(7)}    ${fit.toFixed(1).padStart(19)}    ${board.toFixed(0).padStart(11)}    ${(board / Math.max(fit, 0.01)).toFixed(0).padStart(5)}x`,
  );
}
