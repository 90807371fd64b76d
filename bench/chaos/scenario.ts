import { createRng, hashSeed } from '../../src/lib/random.js';
import {
  type DriftCheck,
  type LedgerCheck,
  measureStatsDrift,
  verifyLedger,
  WriteLedger,
  waitForHealth,
} from './checks.js';
import { ChaosClient, type Sample } from './http-client.js';
import {
  createDatabase,
  type DatabaseServer,
  dropDatabase,
  MeritUnderTest,
  type StopOutcome,
  startOwnedEmbeddedServer,
} from './servers.js';
import { Workload, type WorkloadOptions } from './workload.js';

export interface CampaignOptions {
  quick: boolean;
  seed: number;
  /** A request without an answer after this long is a hang. */
  hangMs: number;
  /** How long to wait for /api/health to answer 2xx after a fault. */
  recoveryBoundMs: number;
  /** Goal: recovery within this long. */
  recoveryGoalMs: number;
  /** Goal: SIGTERM stops Merit within this long. */
  stopBoundMs: number;
  log: (message: string) => void;
  progress: 'bar' | 'lines' | 'silent';
}

/** What a scenario hands to its run function. */
export interface ScenarioEnv {
  readonly name: string;
  readonly options: CampaignOptions;
  readonly server: DatabaseServer;
  readonly databaseName: string;
  readonly databaseUrl: string;
  readonly merit: MeritUnderTest;
  readonly client: ChaosClient;
  readonly ledger: WriteLedger;
  readonly random: () => number;
  workload(options: WorkloadOptions): Workload;
  log(message: string): void;
}

/** What a scenario's run reports; recovery is measured by the harness after the run when not given. */
export interface ScenarioRun {
  /** Milliseconds from the fault to the first 2xx on /api/health; null when it did not recover. */
  recoveryMs?: number | null;
  notes?: string[];
}

export interface ScenarioDefinition {
  readonly name: string;
  readonly title: string;
  /** Runs on a PostgreSQL server of its own, which it may restart. */
  readonly ownsServer?: boolean;
  /**
   * A new connection per request, so that a dropped connection is the answer to that request and not
   * a reused socket the server had closed after an earlier answer.
   */
  readonly connectionPerRequest?: boolean;
  run(env: ScenarioEnv): Promise<ScenarioRun>;
}

export interface Goal {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ScenarioResult {
  name: string;
  title: string;
  seconds: number;
  requests: number;
  statuses: Record<string, number>;
  hangs: number;
  status500: number;
  /** 5xx other than 500 and 503 (502, 504...). */
  otherServerErrors: number;
  connectionErrors: number;
  badErrorBodies: number;
  unavailableWithoutRetryAfter: number;
  acknowledged: number;
  found: number;
  lost: number;
  missing: string[];
  driftRows: number;
  /** undefined when the drift could not be measured. */
  drift: number | undefined;
  driftSamples: string[];
  /** undefined when /api/health did not answer 2xx within the bounded wait. */
  recoveryMs: number | undefined;
  unexpectedExits: (number | null)[];
  stoppedBySigterm: boolean;
  stopMs: number;
  /** Merit had already exited when the campaign stopped it. */
  exitedBeforeStop: boolean;
  samples500: Sample[];
  hangSamples: Sample[];
  connectionSamples: Sample[];
  badErrorBodySamples: Sample[];
  logLines: string[];
  logLineCount: number;
  notes: string[];
  goals: Goal[];
  passed: boolean;
}

/** Merit's output lines worth routing: errors, warnings, stack heads (not the start banner). */
const LOG_PATTERN = /error|fail|unhandled|exception|warn|econn|terminat|deadlock|timeout|refused|fatal/i;

/**
 * Runs one scenario against a real Merit on a fresh database: start, run, measure recovery, stop with
 * SIGTERM, then look for every acknowledged write and for statistics drift.
 */
export async function runScenario(
  definition: ScenarioDefinition,
  sharedServer: DatabaseServer,
  options: CampaignOptions,
): Promise<ScenarioResult> {
  const started = performance.now();
  const log = (message: string) =>
    options.log(`[${definition.name} ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
  const server = definition.ownsServer ? await startOwnedEmbeddedServer() : sharedServer;
  const databaseName = `merit_chaos_${definition.name.replaceAll('-', '_')}_${process.pid}`;
  const notes: string[] = [];
  let client: ChaosClient | undefined;
  let merit: MeritUnderTest | undefined;
  let recoveryMs: number | undefined;
  let stop: StopOutcome = { stoppedBySigterm: false, ms: 0, alreadyExited: true };
  let ledgerCheck: LedgerCheck = { acknowledged: 0, found: 0, missing: [] };
  let drift: DriftCheck = { rows: 0, drifted: undefined, samples: [] };
  const ledger = new WriteLedger();
  let ranToEnd = false;
  let checked = false;
  try {
    const databaseUrl = await createDatabase(server, databaseName);
    merit = await MeritUnderTest.create(databaseUrl);
    log(`starting Merit on 127.0.0.1:${merit.port} (${server.kind} PostgreSQL, database ${databaseName})`);
    await merit.start();
    client = new ChaosClient(merit.port, options.hangMs, { keepAlive: !definition.connectionPerRequest });
    const random = createRng(hashSeed(`${options.seed}:${definition.name}`));
    const env: ScenarioEnv = {
      name: definition.name,
      options,
      server,
      databaseName,
      databaseUrl,
      merit,
      client,
      ledger,
      random,
      workload: (workloadOptions) => new Workload(client as ChaosClient, ledger, random, workloadOptions),
      log,
    };
    let run: ScenarioRun = {};
    try {
      run = await definition.run(env);
      ranToEnd = true;
      notes.push(...(run.notes ?? []));
    } catch (error) {
      notes.push(`scenario aborted: ${(error as Error).stack ?? String(error)}`);
    }
    // Scenarios without a fault of their own measure how soon Merit answers after the load.
    recoveryMs =
      run.recoveryMs === undefined
        ? await waitForHealth(client, performance.now(), options.recoveryBoundMs)
        : (run.recoveryMs ?? undefined);
    log('stopping Merit (SIGTERM)');
    stop = await merit.stop(options.stopBoundMs);
    if (!stop.stoppedBySigterm) log(`Merit did not stop within ${options.stopBoundMs} ms of SIGTERM: killed`);
    log(`checking ${ledger.size} acknowledged writes and statistics drift`);
    ledgerCheck = await verifyLedger(databaseUrl, ledger);
    drift = await measureStatsDrift(databaseUrl);
    checked = true;
  } catch (error) {
    notes.push(`scenario could not run: ${(error as Error).stack ?? String(error)}`);
    if (merit?.alive) await merit.stop(options.stopBoundMs);
  } finally {
    client?.close();
    await dropDatabase(server, databaseName).catch((error: Error) =>
      notes.push(`could not drop ${databaseName}: ${error.message}`),
    );
    if (definition.ownsServer) await server.close().catch(() => {});
  }
  return summarize({
    definition,
    options,
    seconds: (performance.now() - started) / 1000,
    client,
    merit,
    recoveryMs,
    stop,
    ledgerCheck,
    drift,
    notes,
    ran: ranToEnd && checked,
  });
}

function summarize(input: {
  definition: ScenarioDefinition;
  options: CampaignOptions;
  seconds: number;
  client: ChaosClient | undefined;
  merit: MeritUnderTest | undefined;
  recoveryMs: number | undefined;
  stop: StopOutcome;
  ledgerCheck: LedgerCheck;
  drift: DriftCheck;
  notes: string[];
  ran: boolean;
}): ScenarioResult {
  const { definition, options, client, merit, ledgerCheck, drift, notes } = input;
  const tally = client?.tally;
  const statuses = Object.fromEntries(tally?.counts ?? []);
  const hangs = tally?.count('hang') ?? 0;
  const status500 = tally?.count('500') ?? 0;
  const otherServerErrors =
    tally?.countWhere((key) => /^5\d\d$/.test(key) && key !== '500' && key !== '503') ?? 0;
  const badErrorBodies = tally?.badErrorBodyCount ?? 0;
  const lost = ledgerCheck.acknowledged - ledgerCheck.found;
  const unexpectedExits = merit?.unexpectedExits ?? [];
  const allLines = (merit?.output() ?? '').split('\n').filter((line) => LOG_PATTERN.test(line));
  const ran = input.ran;
  const goals: Goal[] = [
    { name: 'ran to the end', ok: ran, detail: ran ? 'yes' : 'no (see notes)' },
    { name: 'hangs', ok: hangs === 0, detail: String(hangs) },
    { name: '500s', ok: status500 === 0, detail: String(status500) },
    { name: 'other 5xx', ok: otherServerErrors === 0, detail: String(otherServerErrors) },
    { name: 'error bodies not JSON', ok: badErrorBodies === 0, detail: String(badErrorBodies) },
    {
      name: 'acknowledged writes lost',
      ok: lost === 0 && ledgerCheck.acknowledged > 0,
      detail: `${lost} of ${ledgerCheck.acknowledged}`,
    },
    {
      name: 'stats drift',
      ok: drift.drifted === 0,
      detail: drift.drifted === undefined ? 'not measured' : `${drift.drifted} of ${drift.rows} rows`,
    },
    {
      name: 'recovery',
      ok: input.recoveryMs !== undefined && input.recoveryMs < options.recoveryGoalMs,
      detail:
        input.recoveryMs === undefined
          ? `none within ${options.recoveryBoundMs / 1000} s`
          : `${(input.recoveryMs / 1000).toFixed(2)} s`,
    },
    {
      name: 'Merit stayed up',
      ok: unexpectedExits.length === 0,
      detail: unexpectedExits.length === 0 ? 'yes' : `exited with ${unexpectedExits.join(', ')}`,
    },
    {
      name: 'stopped by SIGTERM',
      ok: input.stop.stoppedBySigterm && input.stop.ms < options.stopBoundMs,
      detail: input.stop.alreadyExited
        ? 'Merit was not running'
        : input.stop.stoppedBySigterm
          ? `${(input.stop.ms / 1000).toFixed(2)} s`
          : `no (killed after ${options.stopBoundMs / 1000} s)`,
    },
  ];
  return {
    name: definition.name,
    title: definition.title,
    seconds: input.seconds,
    requests: tally?.sent ?? 0,
    statuses,
    hangs,
    status500,
    otherServerErrors,
    connectionErrors: tally?.count('conn') ?? 0,
    badErrorBodies,
    unavailableWithoutRetryAfter: tally?.unavailableWithoutRetryAfter ?? 0,
    acknowledged: ledgerCheck.acknowledged,
    found: ledgerCheck.found,
    lost,
    missing: ledgerCheck.missing,
    driftRows: drift.rows,
    drift: drift.drifted,
    driftSamples: drift.samples,
    recoveryMs: input.recoveryMs,
    unexpectedExits,
    stoppedBySigterm: input.stop.stoppedBySigterm,
    stopMs: input.stop.ms,
    exitedBeforeStop: input.stop.alreadyExited,
    samples500: tally?.samples500 ?? [],
    hangSamples: tally?.hangSamples ?? [],
    connectionSamples: tally?.connectionSamples ?? [],
    badErrorBodySamples: tally?.badErrorBodies ?? [],
    logLines: allLines.slice(0, 12).map((line) => line.slice(0, 400)),
    logLineCount: allLines.length,
    notes,
    goals,
    passed: goals.every((goal) => goal.ok),
  };
}
