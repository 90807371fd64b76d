import type { Kysely } from 'kysely';
import { describeUnknownMention, parseCommand } from '../commands/commands.js';
import type { CategorySource, Database, RoutingDecisionRow, TemplateRow } from '../db/database.js';
import { MeritError, NotFoundError, ValidationError } from '../errors.js';
import type { Scope } from '../identity/scope.js';
import { rankWithConfidence } from '../ranking/ranking.js';
import { floorToHour } from '../stats/read-window.js';
import { findTemplates } from '../tasks/tasks.queries.js';
import { type CategoryClassifier, getCategoryClassifier } from './classification.service.js';
import { type CandidateRow, explainDecision } from './decision-explanation.js';
import {
  type AgentEvaluation,
  type AgentStats,
  type Decision,
  ExternalAgentError,
  estimateCandidates,
  IntelligentRouter,
  type PairStats,
  type RouterOptions,
  type RoutingCandidate,
  type RoutingConstraints,
} from './router.js';
import {
  addRecommendedSpecialties,
  combineAgentStats,
  findPosteriorBest,
  type ObjectiveRequest,
  type ObjectiveView,
  resolveRoutingObjective,
  toEvaluationView,
  toObjectiveView,
} from './routing.js';
import {
  findPairRewardStats,
  findRoutingCandidates,
  findRoutingObjective,
  insertRoutingDecision,
  updateDecisionTask,
} from './routing.queries.js';

/** How far back the router looks for rewards: recent enough to follow agents that change. */
export const DEFAULT_STATS_WINDOW_DAYS = 180;
/** Best-agent listings mark agents with fewer observations in the category as provisional. */
export const BEST_AGENTS_MIN_SAMPLE = 3;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RouteCommandInput {
  scope: Scope;
  command: string;
  constraints?: RoutingConstraints;
  /** The category when the caller knows it; otherwise the command is classified. */
  category?: string;
  /** Overrides of the project's default objective for this decision. */
  objective?: ObjectiveRequest;
}

export interface RouteCommandOptions {
  /** Defaults to the classifier registered for this database handle. */
  classifier?: CategoryClassifier;
  /** Seedable randomness for the Thompson draw (defaults to Math.random). */
  random?: () => number;
  routerOptions?: Partial<RouterOptions>;
  statsWindowDays?: number;
  now?: () => Date;
}

/** A stored routing decision: the router's choice plus how the category was found and why. */
export interface RoutedDecision extends Decision {
  decisionId: string;
  userId: string;
  command: string;
  categoryConfidence: number | null;
  categorySource: CategorySource;
  explanation: string;
  /** The table the explanation was rendered from: every agent weighed, the chosen one marked. */
  candidates: CandidateRow[];
  /** The eligible agent with the best posterior mean (differs from the choice when the router explores). */
  bestAgentId: string | null;
  createdAt: Date;
}

/** The router's inputs, loaded from the database in three queries. */
export interface RoutingSnapshot {
  candidates: RoutingCandidate[];
  pairStats: PairStats[];
  agentStats: AgentStats[];
  templates: TemplateRow[];
  /** The project's stored default objective (undefined: quality). */
  objective: Awaited<ReturnType<typeof findRoutingObjective>>;
}

/**
 * The statistics window the router's estimates read: from `since` (null: the whole history), else the
 * last `statsWindowDays`, up to `until` (exclusive; absent: now on, as a routing decision reads).
 */
export interface StatsWindowOptions {
  statsWindowDays?: number | undefined;
  since?: Date | null | undefined;
  until?: Date | undefined;
}

export async function loadRoutingSnapshot(
  db: Kysely<Database>,
  projectId: string,
  options: StatsWindowOptions & { now?: (() => Date) | undefined } = {},
): Promise<RoutingSnapshot> {
  const now = options.now?.() ?? new Date();
  // From a whole hour: the window then reads the statistics rollups only (see splitRange).
  const since =
    options.since !== undefined
      ? (options.since ?? undefined)
      : floorToHour(
          new Date(now.getTime() - (options.statsWindowDays ?? DEFAULT_STATS_WINDOW_DAYS) * DAY_MS),
        );
  const [candidates, pairStats, templates, objective] = await Promise.all([
    findRoutingCandidates(db, projectId),
    findPairRewardStats(db, projectId, { since, until: options.until }),
    findTemplates(db, projectId),
    findRoutingObjective(db, projectId),
  ]);
  return {
    candidates: addRecommendedSpecialties(candidates, templates),
    pairStats,
    agentStats: combineAgentStats(pairStats),
    templates,
    objective,
  };
}

/**
 * The explicit category if known (400 naming `category` otherwise), else the classifier's. A command
 * that names its agent needs no category to be routed, so it never waits for the LLM: the offline
 * model labels it.
 */
async function resolveCategory(
  projectId: string,
  templates: readonly TemplateRow[],
  command: string,
  explicit: string | undefined,
  classifier: CategoryClassifier,
  mentioned: boolean,
): Promise<{ category: string; confidence: number | null; source: CategorySource }> {
  if (explicit !== undefined) {
    if (!templates.some((template) => template.category === explicit))
      throw new ValidationError('category', `unknown objective category '${explicit}'`);
    return { category: explicit, confidence: 1, source: 'explicit' };
  }
  const classification = mentioned
    ? await classifier.classifyOffline(projectId, command, templates)
    : await classifier.classify(projectId, command, templates);
  const { category, confidence, source } = classification;
  return { category, confidence, source };
}

function findMentionedAgent(command: string, candidates: readonly RoutingCandidate[]): string | null {
  const nickname = parseCommand(command).mention;
  if (nickname === null) return null;
  const agent = candidates.find((candidate) => candidate.nickname === nickname);
  // Merit cannot run an agent that runs elsewhere: 409 agent_external, not an unknown mention.
  if (agent?.external === true) throw new ExternalAgentError(agent.nickname);
  if (!agent?.active) {
    const known = candidates
      .filter((candidate) => candidate.active && candidate.external !== true)
      .map((candidate) => candidate.nickname);
    const message = agent
      ? `@${nickname} is not active; active agents: ${known.map((name) => `@${name}`).join(', ')}`
      : describeUnknownMention(nickname, known);
    throw new MeritError('unknown_agent_mention', `command: ${message}`, {
      details: { field: 'command', nickname },
    });
  }
  return agent.agentId;
}

/**
 * Chooses the agent for a command and stores the decision. An @mention always wins (the decision is
 * still stored, with reason `mention`); otherwise the command's category is classified (unless given)
 * and the Thompson-sampling router picks among active agents within the constraints, penalising load.
 * Link the task it creates with `linkDecisionToTask`.
 */
export async function routeCommand(
  db: Kysely<Database>,
  input: RouteCommandInput,
  options: RouteCommandOptions = {},
): Promise<RoutedDecision> {
  const classifier = options.classifier ?? getCategoryClassifier(db);
  const snapshot = await loadRoutingSnapshot(db, input.scope.projectId, options);
  const mentionedAgentId = findMentionedAgent(input.command, snapshot.candidates);
  // Resolved before any LLM call, so a missing knob costs nothing.
  const objective = resolveRoutingObjective(snapshot.objective, input.objective);
  const classification = await resolveCategory(
    input.scope.projectId,
    snapshot.templates,
    input.command,
    input.category,
    classifier,
    mentionedAgentId !== null,
  );
  const router = new IntelligentRouter(options.routerOptions);
  const decision = router.route({
    category: classification.category,
    candidates: snapshot.candidates,
    pairStats: snapshot.pairStats,
    agentStats: snapshot.agentStats,
    mentionedAgentId,
    constraints: input.constraints ?? {},
    objective,
    random: options.random ?? Math.random,
  });
  // One table, built once: the sentence is rendered from it, and both are stored and served.
  const explanation = explainDecision(decision);
  const best = findPosteriorBest(decision);
  const row = await insertRoutingDecision(db, {
    project_id: input.scope.projectId,
    user_id: input.scope.userId,
    command: input.command,
    category: decision.category,
    confidence: classification.confidence,
    category_source: classification.source,
    chosen_agent_id: decision.agentId,
    reason: decision.reason,
    expected_score: roundTo(decision.expectedScore, 4),
    interval_lower: roundTo(decision.interval[0], 4),
    interval_upper: roundTo(decision.interval[1], 4),
    sampled_score: decision.sampledScore === null ? null : roundTo(decision.sampledScore, 4),
    observations: decision.observations,
    best_agent_id: best?.agentId ?? null,
    runners_up: JSON.stringify(decision.runnersUp.map(toEvaluationView)),
    constraints: JSON.stringify(toConstraintsView(decision)),
    explanation: explanation.sentence,
    candidates: JSON.stringify(explanation.candidates),
    ...(options.now ? { created_at: options.now() } : {}),
  });
  return {
    ...decision,
    decisionId: row.id,
    userId: row.user_id,
    command: row.command,
    categoryConfidence: row.confidence,
    categorySource: row.category_source,
    explanation: explanation.sentence,
    candidates: explanation.candidates,
    bestAgentId: row.best_agent_id,
    createdAt: row.created_at,
  };
}

/** Records which task a decision created, so its outcome joins the decision once the task is scored. */
export async function linkDecisionToTask(
  db: Kysely<Database>,
  input: { scope: Scope; decisionId: string; taskId: string },
): Promise<void> {
  const linked = await updateDecisionTask(db, input.scope, input.decisionId, input.taskId);
  if (!linked)
    throw new NotFoundError('not_found', `No routing decision ${input.decisionId} with task ${input.taskId}`);
}

/** The limits and the objective of a decision, as stored in its `constraints` column and served. */
export function toConstraintsView(decision: Decision) {
  return {
    max_cost: decision.constraints.maxCost,
    max_duration_ms: decision.constraints.maxDurationMs,
    load_penalty: decision.constraints.loadPenalty,
    excluded_agent_ids: decision.constraints.excludedAgentIds,
    objective: toObjectiveView(decision.objective),
  };
}

const QUALITY_VIEW: ObjectiveView = {
  kind: 'quality',
  usd_per_quality: null,
  target_quality: null,
  min_probability: null,
};

/** A stored decision's objective (decisions from before objectives existed were all on quality). */
function readStoredObjective(constraints: Record<string, unknown>): ObjectiveView {
  const stored = constraints.objective;
  return typeof stored === 'object' && stored !== null ? (stored as ObjectiveView) : QUALITY_VIEW;
}

/** A decision as the API shows it. */
export function toDecisionView(decision: RoutedDecision) {
  const { runnersUp: _runnersUp, constraints: _constraints, ...chosen } = decision;
  return {
    decision_id: decision.decisionId,
    command: decision.command,
    category: decision.category,
    category_confidence: decision.categoryConfidence,
    category_source: decision.categorySource,
    reason: decision.reason,
    objective: toObjectiveView(decision.objective),
    ...toEvaluationView(chosen),
    best_agent_id: decision.bestAgentId,
    explanation: decision.explanation,
    candidates: decision.candidates,
    runners_up: decision.runnersUp.map(toEvaluationView),
    constraints: toConstraintsView(decision),
    task_id: null as string | null,
    created_at: decision.createdAt.toISOString(),
  };
}

/** A stored decision row as the API shows it (the same fields as a fresh decision). */
export function toStoredDecisionView(row: RoutingDecisionRow & { nickname: string }) {
  return {
    decision_id: row.id,
    command: row.command,
    category: row.category,
    category_confidence: row.confidence,
    category_source: row.category_source,
    reason: row.reason,
    objective: readStoredObjective(row.constraints),
    agent_id: row.chosen_agent_id,
    nickname: row.nickname,
    expected_score: row.expected_score,
    interval: { lower: row.interval_lower, upper: row.interval_upper },
    sampled_score: row.sampled_score,
    observations: row.observations,
    best_agent_id: row.best_agent_id,
    explanation: row.explanation,
    candidates: row.candidates as CandidateRow[],
    runners_up: row.runners_up,
    constraints: row.constraints,
    task_id: row.task_id,
    created_at: row.created_at.toISOString(),
  };
}

/** An agent's posterior reward in every category (what it is good at, and how sure we are). */
export async function describeCapabilities(
  db: Kysely<Database>,
  projectId: string,
  agentId: string,
  options: StatsWindowOptions = {},
): Promise<{ agent: RoutingCandidate; categories: (AgentEvaluation & { category: string })[] }> {
  const snapshot = await loadRoutingSnapshot(db, projectId, options);
  const agent = snapshot.candidates.find((candidate) => candidate.agentId === agentId);
  if (!agent) throw new NotFoundError('agent_not_found', `Agent ${agentId} not found`);
  const categories = snapshot.templates.map((template) => {
    const [evaluation] = estimateCandidates({
      ...snapshot,
      category: template.category,
      candidates: [agent],
    });
    return { ...(evaluation as AgentEvaluation), category: template.category };
  });
  categories.sort(
    (left, right) => right.expectedScore - left.expectedScore || left.category.localeCompare(right.category),
  );
  return { agent, categories };
}

/**
 * Active agents the router may choose (not the orchestrator) ranked for one category by the lower bound
 * of their posterior reward; agents whose intervals overlap share a rank, and agents with fewer than
 * `minSample` observations are provisional.
 */
export async function rankBestAgents(
  db: Kysely<Database>,
  projectId: string,
  category: string,
  options: StatsWindowOptions & { minSample?: number } = {},
) {
  const snapshot = await loadRoutingSnapshot(db, projectId, options);
  if (!snapshot.templates.some((template) => template.category === category))
    throw new NotFoundError('category_not_found', `Category ${category} not found`);
  const evaluations = estimateCandidates({
    ...snapshot,
    category,
    candidates: snapshot.candidates.filter(
      (candidate) => candidate.active && !candidate.isOrchestrator && candidate.external !== true,
    ),
  });
  return rankWithConfidence(
    evaluations.map((evaluation) => ({
      ...evaluation,
      lower: evaluation.interval[0],
      upper: evaluation.interval[1],
      n: evaluation.observations,
    })),
    { minSample: options.minSample ?? BEST_AGENTS_MIN_SAMPLE },
  );
}

function roundTo(value: number, decimals: number): number {
  return Math.round(value * 10 ** decimals) / 10 ** decimals;
}
