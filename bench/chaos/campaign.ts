import {
  type CampaignOptions,
  runScenario,
  type ScenarioDefinition,
  type ScenarioResult,
} from './scenario.js';
import { coldCompletes } from './scenarios/cold-completes.js';
import { killMerit } from './scenarios/kill-merit.js';
import { mixedWrites } from './scenarios/mixed-writes.js';
import { openApiFuzz } from './scenarios/openapi-fuzz.js';
import { postgresRestart } from './scenarios/postgres-restart.js';
import { terminateBackendsScenario } from './scenarios/terminate-backends.js';
import { externalDatabaseServer, openDatabaseServer } from './servers.js';

/** The scenarios, in the order they run. */
export const SCENARIOS: readonly ScenarioDefinition[] = [
  coldCompletes,
  mixedWrites,
  terminateBackendsScenario,
  postgresRestart,
  killMerit,
  openApiFuzz,
];

export interface CampaignRequest {
  quick?: boolean;
  seed?: number;
  /** Scenario names to run (all when empty). */
  only?: readonly string[];
  /** Run every scenario on a campaign-owned embedded server even when the machine's answers. */
  embeddedOnly?: boolean;
  /** A server to create the databases on instead (the test run's); restart scenarios still own theirs. */
  databaseServer?: { adminUrl: string; kind: 'system' | 'embedded' };
  log?: (message: string) => void;
  progress?: CampaignOptions['progress'];
}

export interface CampaignResult {
  options: CampaignOptions;
  databaseServer: 'system' | 'embedded';
  scenarios: ScenarioResult[];
  passed: boolean;
  seconds: number;
}

/** The goal figures of issue 8. */
export const GOALS = { hangs: 0, status500: 0, lost: 0, drift: 0, recoveryMs: 10_000 } as const;

export function resolveOptions(request: CampaignRequest): CampaignOptions {
  const quick = request.quick ?? false;
  return {
    quick,
    seed: request.seed ?? 1,
    hangMs: 15_000,
    recoveryBoundMs: 30_000,
    recoveryGoalMs: GOALS.recoveryMs,
    stopBoundMs: 10_000,
    log: request.log ?? ((message) => process.stderr.write(`${message}\n`)),
    progress: request.progress ?? (process.stderr.isTTY ? 'bar' : 'lines'),
  };
}

/** Selects scenarios by name; throws on an unknown name. */
export function selectScenarios(only: readonly string[] | undefined): ScenarioDefinition[] {
  if (!only || only.length === 0) return [...SCENARIOS];
  return only.map((name) => {
    const found = SCENARIOS.find((scenario) => scenario.name === name);
    if (!found)
      throw new Error(`Unknown scenario '${name}'. Scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return found;
  });
}

/** Runs the fault campaign: each scenario against a real Merit process on a fresh database. */
export async function runCampaign(request: CampaignRequest = {}): Promise<CampaignResult> {
  const started = performance.now();
  const options = resolveOptions(request);
  const scenarios = selectScenarios(request.only);
  const server = request.databaseServer
    ? externalDatabaseServer(request.databaseServer.adminUrl, request.databaseServer.kind)
    : await openDatabaseServer(request.embeddedOnly ?? false);
  options.log(
    `Fault campaign (${options.quick ? 'quick' : 'full'}, seed ${options.seed}) on ${server.kind === 'system' ? 'the machine PostgreSQL' : 'an embedded PostgreSQL'}: ${scenarios.map((s) => s.name).join(', ')}`,
  );
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      options.log(`\n=== ${scenario.name}: ${scenario.title}`);
      const result = await runScenario(scenario, server, options);
      options.log(
        `=== ${scenario.name}: ${
          result.passed
            ? 'goals met'
            : `goals missed (${result.goals
                .filter((goal) => !goal.ok)
                .map((goal) => `${goal.name}: ${goal.detail}`)
                .join('; ')})`
        } in ${result.seconds.toFixed(1)} s`,
      );
      results.push(result);
    }
  } finally {
    await server.close();
  }
  return {
    options,
    databaseServer: server.kind,
    scenarios: results,
    passed: results.every((result) => result.passed),
    seconds: (performance.now() - started) / 1000,
  };
}
