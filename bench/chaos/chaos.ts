/**
 * The fault campaign of issue 8: `npm run chaos [-- --quick] [--only <scenario>[,<scenario>]] [--seed N]`.
 * Prints progress, each scenario's figures and a summary table; exits 1 when a goal is missed.
 */
import { parseArgs } from 'node:util';
import { runCampaign, SCENARIOS } from './campaign.js';
import { formatScenarioDetails, formatSummary } from './report.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    seed: { type: 'string', default: '1' },
    embedded: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`npm run chaos -- [--quick] [--only <scenario>] [--seed N] [--embedded]

  --quick      a few seconds of each scenario (what npm test runs)
  --only       run only these scenarios (repeat, or separate with commas): ${SCENARIOS.map((s) => s.name).join(', ')}
  --seed N     seed of the workloads and of the fuzzer (same seed, same requests)
  --embedded   use a campaign-owned embedded PostgreSQL even when postgres://postgres@127.0.0.1:5432 answers`);
  process.exit(0);
}

const seed = Number(values.seed);
if (!Number.isInteger(seed)) {
  console.error(`--seed must be an integer, not '${values.seed}'`);
  process.exit(2);
}

try {
  const campaign = await runCampaign({
    quick: values.quick,
    seed,
    only: (values.only ?? []).flatMap((item) => item.split(',')).filter(Boolean),
    embeddedOnly: values.embedded,
  });
  for (const scenario of campaign.scenarios) console.log(formatScenarioDetails(scenario));
  console.log(formatSummary(campaign));
  process.exitCode = campaign.passed ? 0 : 1;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
}
