import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_OVERALL_WEIGHTS, type OverallWeights, parseOverallWeights } from './evaluation/scores.js';
import { isLoopbackAddress } from './lib/addresses.js';
import { loadPriceTable, type PriceTable } from './llm/pricing.js';
import { DEFAULT_REVIEWERS, parseReviewersConfig, type Reviewer } from './reviews/peer-review.js';
import { parseRewardConfig, type RewardConfig } from './rewards/reward-rules.js';

/** The default user of the seed's single-user world (its curl examples use this id). */
export const DEFAULT_USER_ID = '00000000-0000-0000-0000-000000000001';

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const booleanText = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((value) => ['1', 'true', 'on', 'yes'].includes(value));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: optionalText,
  DATABASE_READ_URL: optionalText,
  MERIT_DATA_DIR: z.string().default('.merit'),
  MERIT_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54320),
  MERIT_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  MERIT_WORKER: booleanText.default(true),
  MERIT_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  MERIT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  MERIT_STATS_CRON: z.string().default('0 * * * *'),
  MERIT_ROLLUP_CHECK_CRON: z.string().default('43 3 * * *'),
  MERIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).optional(),
  MERIT_LLM_PROVIDER: z.enum(['openai', 'anthropic']).optional(),
  MERIT_LLM_BASE_URL: optionalText,
  MERIT_LLM_API_KEY: optionalText,
  MERIT_LLM_MODEL: optionalText,
  MERIT_LLM_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  MERIT_JUDGE_MODEL: optionalText,
  MERIT_AGENT_MODELS: optionalText,
  MERIT_SIMULATION_SEED: z.coerce.number().int().default(42),
  MERIT_SIMULATION_SPEED: z.coerce.number().positive().max(1_000_000).default(10),
  MERIT_EVALUATION: booleanText.default(true),
  MERIT_EVALUATION_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(1),
  MERIT_EVALUATION_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  MERIT_OVERALL_WEIGHTS: optionalText,
  MERIT_REVIEWERS: optionalText,
  MERIT_REWARD_RULES: optionalText,
  MERIT_SSE_MAX_PER_USER: z.coerce.number().int().min(1).default(10),
  MERIT_SSE_MAX_TOTAL: z.coerce.number().int().min(1).default(1000),
  MERIT_DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  MERIT_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  MERIT_DB_LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  MERIT_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  MERIT_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8000),
  MERIT_ALLOWED_HOSTS: optionalText,
  MERIT_TASK_TIMEOUT_MINUTES: z.coerce.number().int().min(0).default(60),
  MERIT_CLASSIFY_TIMEOUT_MS: z.coerce.number().int().min(50).default(2000),
  MERIT_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  MERIT_LLM_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(500),
  MERIT_LLM_RETRY_MAX_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  MERIT_PRICES_FILE: optionalText,
  MERIT_AUTH: z.enum(['local', 'required']).optional(),
  MERIT_SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24 * 7),
  MERIT_COOKIE_SECURE: booleanText.default(false),
  MERIT_RATE_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  MERIT_RATE_COMMANDS_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  MERIT_LLM_SPEND_PER_DAY_USD: z.coerce.number().positive().optional(),
  MERIT_OTLP_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  MERIT_OTLP_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1024).default(16),
});

export interface LlmSettings {
  readonly kind: 'openai' | 'anthropic';
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly model: string;
  readonly judgeModel: string;
  /** Per-agent model overrides, from `MERIT_AGENT_MODELS="bob=gpt-4o,kai=gpt-4o-mini"`. */
  readonly agentModels: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Retries of transient failures (429, 5xx, timeouts, resets) of every LLM call; see src/llm/provider.ts. */
  readonly retry: {
    readonly maxRetries: number;
    readonly baseDelayMs: number;
    readonly maxTotalWaitMs: number;
  };
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Set when Merit must use an existing PostgreSQL server; otherwise an embedded one is started. */
  readonly databaseUrl: string | undefined;
  /** A read replica for read endpoints (leaderboard, agent statistics and charts); they may lag the primary. */
  readonly databaseReadUrl: string | undefined;
  readonly dataDir: string;
  readonly embeddedPgPort: number;
  readonly maxBodyBytes: number;
  /** OTLP/HTTP trace exports (src/otel/otel.routes.ts). */
  readonly otlp: OtlpSettings;
  readonly runWorker: boolean;
  readonly workerConcurrency: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** When the statistics' recent days (and their all-time rows) are checked against the raw rows (and rebuilt when they drifted). */
  readonly statsCron: string;
  /** When the statistics (against every task) and the rollups kept by triggers are checked the same way. */
  readonly rollupCheckCron: string;
  /** Finished tasks older than this many days are rolled up by day and deleted (src/retention); undefined: kept forever. */
  readonly retentionDays: number | undefined;
  /** Undefined when no LLM is configured: Merit then runs its simulated team and offline evaluators. */
  readonly llm: LlmSettings | undefined;
  readonly simulationSeed: number;
  /**
   * How much faster than its reported durations a simulated agent runs (10: a 4 s step takes 0.4 s of
   * wall-clock time). The reported durations stay realistic; tests use a large value.
   */
  readonly simulationSpeed: number;
  readonly evaluation: EvaluationSettings;
  /** Live event streams (`/api/events`) open at once, per user and in this process. */
  readonly sse: { readonly maxPerUser: number; readonly maxTotal: number };
  /** Every pooled connection's limits (0 turns a PostgreSQL timeout off); see src/db/connect.ts. */
  readonly database: DatabaseTimeouts;
  /** How long SIGTERM/SIGINT waits for a graceful stop before the process exits anyway. */
  readonly shutdownTimeoutMs: number;
  /**
   * Host names the server answers to (the Host header), besides the loopback names; `*` answers to
   * any. A DNS-rebinding page cannot drive a local Merit: its requests carry the attacker's host name.
   */
  readonly allowedHosts: readonly string[];
  /** A queued or running task with no activity for this long fails as timed out (0: never). */
  readonly taskTimeoutMinutes: number;
  /** How long a command waits for the LLM classifier before the offline classifier answers. */
  readonly classifyTimeoutMs: number;
  /** The shipped model prices plus MERIT_PRICES_FILE's entries (which win); see src/llm/pricing.ts. */
  readonly prices: PriceTable;
  /** Who may call the API; see src/identity/authenticate.ts. */
  readonly auth: AuthSettings;
}

/**
 * Evaluation and scoring, parsed once here: every process (server, worker, seed-demo) scores with the
 * same weights, reward rules and reviewers, and a bad value stops startup naming its variable.
 */
export interface EvaluationSettings {
  readonly enabled: boolean;
  readonly sampleRate: number;
  readonly ratePerMinute: number;
  /** MERIT_OVERALL_WEIGHTS over DEFAULT_OVERALL_WEIGHTS. */
  readonly weights: OverallWeights;
  /** MERIT_REWARD_RULES over DEFAULT_REWARD_CONFIG. */
  readonly rewards: RewardConfig;
  /** MERIT_REVIEWERS, or DEFAULT_REVIEWERS when unset. */
  readonly peerReviewers: readonly Reviewer[];
}

export interface OtlpSettings {
  /** The largest body, compressed and again decompressed (a gzip bomb stops there). */
  readonly maxBodyBytes: number;
  /** Exports decoded and stored at once per process; more are answered 503 with Retry-After. */
  readonly maxInFlight: number;
}

export interface AuthSettings {
  /**
   * `local`: the seed's contract (`?user_id=`, one project, no login), allowed on loopback only.
   * `required`: a session or an API key on every request but health and docs.
   */
  readonly mode: 'local' | 'required';
  /** True when MERIT_AUTH was not set and the mode follows from the bound address. */
  readonly modeFromHost: boolean;
  readonly sessionTtlHours: number;
  /** Session cookies carry `Secure` (set it when Merit is served over HTTPS). */
  readonly cookieSecure: boolean;
  /** Defaults of the shared rate limits; a project's settings may override them. */
  readonly rateLimits: RateLimitDefaults;
}

export interface RateLimitDefaults {
  /** Requests per minute per API key, or per signed-in account. */
  readonly requestsPerMinute: number;
  /** Commands (agent runs) per minute per user. */
  readonly commandsPerMinute: number;
  /** LLM spend per project and UTC day, in USD; undefined: no cap. */
  readonly llmSpendPerDayUsd: number | undefined;
}

export interface DatabaseTimeouts {
  /** Wait for a free pooled connection (or a new one) before failing with 503. */
  readonly acquireTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
}

/** Parses the environment once; the result is frozen and passed to whoever needs it. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${issues.join('\n  ')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databaseReadUrl: e.DATABASE_READ_URL,
    dataDir: path.resolve(e.MERIT_DATA_DIR),
    embeddedPgPort: e.MERIT_PG_PORT,
    maxBodyBytes: e.MERIT_MAX_BODY_BYTES,
    otlp: Object.freeze({
      maxBodyBytes: e.MERIT_OTLP_MAX_BODY_BYTES,
      maxInFlight: e.MERIT_OTLP_MAX_IN_FLIGHT,
    }),
    runWorker: e.MERIT_WORKER,
    workerConcurrency: e.MERIT_WORKER_CONCURRENCY,
    logLevel: e.MERIT_LOG_LEVEL,
    statsCron: e.MERIT_STATS_CRON,
    rollupCheckCron: e.MERIT_ROLLUP_CHECK_CRON,
    retentionDays: e.MERIT_RETENTION_DAYS,
    llm: parseLlmSettings(e),
    simulationSeed: e.MERIT_SIMULATION_SEED,
    simulationSpeed: e.MERIT_SIMULATION_SPEED,
    evaluation: parseEvaluationSettings(e),
    sse: Object.freeze({ maxPerUser: e.MERIT_SSE_MAX_PER_USER, maxTotal: e.MERIT_SSE_MAX_TOTAL }),
    database: Object.freeze({
      acquireTimeoutMs: e.MERIT_DB_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: e.MERIT_DB_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: e.MERIT_DB_LOCK_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.MERIT_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    }),
    shutdownTimeoutMs: e.MERIT_SHUTDOWN_TIMEOUT_MS,
    taskTimeoutMinutes: e.MERIT_TASK_TIMEOUT_MINUTES,
    allowedHosts: Object.freeze(
      (e.MERIT_ALLOWED_HOSTS ?? '')
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter((host) => host !== ''),
    ),
    classifyTimeoutMs: e.MERIT_CLASSIFY_TIMEOUT_MS,
    prices: loadPriceTable(e.MERIT_PRICES_FILE),
    auth: Object.freeze({
      mode: e.MERIT_AUTH ?? (isLoopbackAddress(e.HOST) ? 'local' : 'required'),
      modeFromHost: e.MERIT_AUTH === undefined,
      sessionTtlHours: e.MERIT_SESSION_TTL_HOURS,
      cookieSecure: e.MERIT_COOKIE_SECURE,
      rateLimits: Object.freeze({
        requestsPerMinute: e.MERIT_RATE_REQUESTS_PER_MINUTE,
        commandsPerMinute: e.MERIT_RATE_COMMANDS_PER_MINUTE,
        llmSpendPerDayUsd: e.MERIT_LLM_SPEND_PER_DAY_USD,
      }),
    }),
  });
}

function parseEvaluationSettings(e: z.infer<typeof envSchema>): EvaluationSettings {
  return Object.freeze({
    enabled: e.MERIT_EVALUATION,
    sampleRate: e.MERIT_EVALUATION_SAMPLE_RATE,
    ratePerMinute: e.MERIT_EVALUATION_RATE_PER_MINUTE,
    weights: readVariable('MERIT_OVERALL_WEIGHTS', e.MERIT_OVERALL_WEIGHTS, parseOverallWeights) ?? {
      ...DEFAULT_OVERALL_WEIGHTS,
    },
    rewards: parseVariable('MERIT_REWARD_RULES', e.MERIT_REWARD_RULES ?? '', parseRewardConfig),
    peerReviewers: Object.freeze(
      readVariable('MERIT_REVIEWERS', e.MERIT_REVIEWERS, parseReviewersConfig) ?? DEFAULT_REVIEWERS,
    ),
  });
}

function readVariable<T>(name: string, text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parseVariable(name, text, parse);
}

/** Runs a variable's parser; its error becomes a configuration error that names the variable. */
function parseVariable<T>(name: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Invalid configuration:\n  ${name}: ${message}`, { cause: error });
  }
}

function parseLlmSettings(e: z.infer<typeof envSchema>): LlmSettings | undefined {
  if (e.MERIT_LLM_PROVIDER === undefined && e.MERIT_LLM_BASE_URL === undefined) return undefined;
  const kind = e.MERIT_LLM_PROVIDER ?? 'openai';
  const baseUrl =
    e.MERIT_LLM_BASE_URL ??
    (kind === 'anthropic' ? 'https://api.anthropic.com' : 'https://api.openai.com/v1');
  const model = e.MERIT_LLM_MODEL ?? (kind === 'anthropic' ? 'claude-3-5-haiku-latest' : 'gpt-4o-mini');
  return Object.freeze({
    kind,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKey: e.MERIT_LLM_API_KEY,
    model,
    judgeModel: e.MERIT_JUDGE_MODEL ?? model,
    agentModels: Object.freeze(parseAgentModels(e.MERIT_AGENT_MODELS)),
    timeoutMs: e.MERIT_LLM_TIMEOUT_MS,
    retry: Object.freeze({
      maxRetries: e.MERIT_LLM_MAX_RETRIES,
      baseDelayMs: e.MERIT_LLM_RETRY_BASE_MS,
      maxTotalWaitMs: e.MERIT_LLM_RETRY_MAX_WAIT_MS,
    }),
  });
}

function parseAgentModels(text: string | undefined): Record<string, string> {
  const models: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const [nickname, model] = pair.split('=').map((part) => part.trim());
    if (nickname && model) models[nickname] = model;
  }
  return models;
}
