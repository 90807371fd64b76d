import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Terminology (used the same way everywhere in Merit):
 * - task: one command executed by one agent.
 * - node: one step inside a task (plan, research, respond...).
 * - job: background work run by the worker (evaluation, peer review, aggregation).
 * - rating: a user's 1-5 stars for a task.
 * - score: a 0-1 quality figure (accuracy, relevance, completeness, efficiency, overall, peer).
 * - category: a task's objective category, one row of `objective_templates`.
 */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface AgentsTable {
  project_id: string;
  agent_id: string;
  nickname: string;
  display_name: string;
  role: string;
  specializations: ColumnType<string[], string[] | undefined, string[]>;
  is_reviewer: ColumnType<boolean, boolean | undefined, boolean>;
  is_orchestrator: ColumnType<boolean, boolean | undefined, boolean>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  system_prompt: ColumnType<string, string | undefined, string>;
  model: string | null;
  /** `external`: runs outside Merit and is only measured (from OpenTelemetry spans, Arena imports). */
  origin: ColumnType<AgentOrigin, AgentOrigin | undefined, AgentOrigin>;
  /** The name the source gave an external agent; null for Merit's own agents. */
  external_name: string | null;
  created_at: CreatedAt;
}

export type AgentOrigin = 'merit' | 'external';

export interface ObjectiveTemplatesTable {
  project_id: string;
  category: string;
  display_name: string;
  description: ColumnType<string, string | undefined, string>;
  evaluation_criteria: ColumnType<string[], string | undefined, string>;
  keywords: ColumnType<string[], string[] | undefined, string[]>;
  example_commands: ColumnType<string[], string[] | undefined, string[]>;
  recommended_agents: ColumnType<string[], string[] | undefined, string[]>;
  typical_tokens: ColumnType<number, number | undefined, number>;
  typical_duration_ms: ColumnType<number, number | undefined, number>;
  is_builtin: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed';
export type CategorySource = 'explicit' | 'classifier' | 'llm' | 'default';
export type TaskSource = 'api' | 'batch' | 'mission_control' | 'demo' | 'otel';

export interface TasksTable {
  id: Generated<string>;
  project_id: string;
  user_id: string;
  agent_id: string;
  command: string;
  objective_category: ColumnType<string, string | undefined, string>;
  category_confidence: number | null;
  category_source: ColumnType<CategorySource, CategorySource | undefined, CategorySource>;
  status: ColumnType<TaskStatus, TaskStatus | undefined, TaskStatus>;
  current_node: string | null;
  result: string | null;
  error: string | null;
  model: string | null;
  simulated: ColumnType<boolean, boolean | undefined, boolean>;
  source: ColumnType<TaskSource, TaskSource | undefined, TaskSource>;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  /** Moves on every status or node change; a task idle for too long is failed as timed out. */
  last_activity_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** Why a failed task failed; null on a failed task written without one means 'error'. */
  failure_reason: FailureReason | null;
  /** The conversation the task belongs to (OpenTelemetry's gen_ai.conversation.id); null when unknown. */
  session_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export type FailureReason = 'error' | 'timed_out';

export interface AgentPerformanceScoresTable {
  id: Generated<string>;
  task_id: string;
  /** Always the task's project (set by a trigger from task_id; a writer need not give it). */
  project_id: ColumnType<string, string | undefined, never>;
  agent_id: string;
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  efficiency_score: number | null;
  overall_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  created_at: CreatedAt;
  user_id: string;
  objective_category: string;
  model: string | null;
  duration_ms: number | null;
  peer_score: number | null;
  reward_points: ColumnType<number, number | undefined, number>;
  score_sources: Json<Record<string, ScoreSource>>;
  /** The reward rules applied to this score (their points sum to reward_points). */
  reward_rules: ColumnType<AppliedRewardRule[], string | undefined, string>;
  rated_at: Timestamp | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Where one score dimension came from, recorded beside the score. */
export interface ScoreSource {
  source: 'heuristic' | 'judge' | 'user' | 'peer' | 'formula';
  version: string;
}

/** One reward or penalty applied to a task's score. */
export interface AppliedRewardRule {
  rule: string;
  points: number;
  reason: string;
}

export interface AgentPeerEvaluationsTable {
  id: Generated<string>;
  task_id: string;
  /** Always the task's project (set by a trigger from task_id; a writer need not give it). */
  project_id: ColumnType<string, string | undefined, never>;
  evaluated_agent_id: string;
  reviewer_agent_id: string;
  perspective: string;
  /** A review that failed for good is recorded with its reason and no score. */
  status: ColumnType<'done' | 'failed', 'done' | 'failed' | undefined, 'done' | 'failed'>;
  failure_reason: ColumnType<string | null, string | null | undefined, string | null>;
  score: number | null;
  strengths: Json<string[]>;
  weaknesses: Json<string[]>;
  suggestions: Json<string[]>;
  review_text: ColumnType<string, string | undefined, string>;
  source: 'llm' | 'heuristic';
  evaluator_version: string;
  reviewer_weight: ColumnType<number, number | undefined, number>;
  /** Null when the provider did not report usage (or the review made no paid call): unknown, not 0. */
  prompt_tokens: ColumnType<number | null, number | null | undefined, number | null>;
  completion_tokens: ColumnType<number | null, number | null | undefined, number | null>;
  estimated_cost: ColumnType<number | null, number | null | undefined, number | null>;
  /** Attempts the review's job made, the last one included. */
  attempts: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
}

export interface AgentNodePerformanceTable {
  id: Generated<string>;
  task_id: string;
  /** Always the task's project (set by a trigger from task_id; a writer need not give it). */
  project_id: ColumnType<string, string | undefined, never>;
  agent_id: string;
  node_name: string;
  sequence: number;
  status: ColumnType<'running' | 'completed' | 'failed', 'running' | 'completed' | 'failed' | undefined>;
  duration_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: ColumnType<number, number | undefined, number>;
  success: ColumnType<boolean, boolean | undefined, boolean>;
  error: string | null;
  started_at: Timestamp | null;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
}

/** Running sums shared by the per-agent and per-(agent, category) statistics tables. */
interface StatsSums {
  failed_tasks: ColumnType<number, number | undefined, number>;
  scored_tasks: ColumnType<number, number | undefined, number>;
  sum_overall_score: ColumnType<number, number | undefined, number>;
  sum_sq_overall_score: ColumnType<number, number | undefined, number>;
  rated_tasks: ColumnType<number, number | undefined, number>;
  sum_user_rating: ColumnType<number, number | undefined, number>;
  ratings_1: ColumnType<number, number | undefined, number>;
  ratings_2: ColumnType<number, number | undefined, number>;
  ratings_3: ColumnType<number, number | undefined, number>;
  ratings_4: ColumnType<number, number | undefined, number>;
  ratings_5: ColumnType<number, number | undefined, number>;
  total_tokens: ColumnType<number, number | undefined, number>;
  total_cost: ColumnType<number, number | undefined, number>;
  /** Finished tasks whose cost is known (total_cost sums those only). */
  priced_tasks: ColumnType<number, number | undefined, number>;
  /** Finished tasks whose token count is known (total_tokens sums those only). */
  metered_tasks: ColumnType<number, number | undefined, number>;
  total_duration_ms: ColumnType<number, number | undefined, number>;
  reward_points: ColumnType<number, number | undefined, number>;
  first_task_at: Timestamp | null;
  last_task_at: Timestamp | null;
}

export interface AgentPerformanceStatsTable extends StatsSums {
  project_id: string;
  agent_id: string;
  nickname: string;
  total_tasks: ColumnType<number | null, number | undefined, number>;
  successful_tasks: ColumnType<number | null, number | undefined, number>;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  overall_rank: number | null;
  last_updated: ColumnType<Date | null, Date | string | undefined, Date | string>;
}

export interface AgentCategoryStatsTable extends StatsSums {
  project_id: string;
  agent_id: string;
  objective_category: string;
  total_tasks: ColumnType<number, number | undefined, number>;
  successful_tasks: ColumnType<number, number | undefined, number>;
  last_updated: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Migration 015: deleted (past-retention) finished tasks, summed per project, agent, category, user and UTC day. */
export interface TaskDailyRollupsTable extends StatsSums {
  project_id: string;
  agent_id: string;
  objective_category: string;
  user_id: string;
  day: ColumnType<Date, Date | string, Date | string>;
  total_tasks: ColumnType<number, number | undefined, number>;
  successful_tasks: ColumnType<number, number | undefined, number>;
  score_rows: ColumnType<number, number | undefined, number>;
  score_cost: ColumnType<number, number | undefined, number>;
  score_priced_rows: ColumnType<number, number | undefined, number>;
}

export type RoutingReason =
  | 'mention'
  | 'thompson'
  | 'fallback_constraints'
  | 'cheapest_meeting'
  | 'target_unmet';

/** A project's default routing objective and its knobs (migration 014; see src/routing/router.ts). */
export interface RoutingObjectivesTable {
  project_id: string;
  objective: 'quality' | 'value' | 'cheapest_meeting';
  usd_per_quality: number | null;
  target_quality: number | null;
  min_probability: number | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface RoutingDecisionsTable {
  id: Generated<string>;
  project_id: string;
  user_id: string;
  task_id: string | null;
  command: string;
  category: string;
  confidence: number | null;
  category_source: CategorySource;
  chosen_agent_id: string;
  reason: RoutingReason;
  expected_score: number;
  interval_lower: number;
  interval_upper: number;
  sampled_score: number | null;
  observations: ColumnType<number, number | undefined, number>;
  /** The eligible agent with the highest posterior mean when the decision was made. */
  best_agent_id: string | null;
  runners_up: Json<unknown[]>;
  constraints: Json<Record<string, unknown>>;
  explanation: string;
  /** The explanation's table: every agent weighed, the chosen one marked (see decision-explanation.ts). */
  candidates: Json<unknown[]>;
  created_at: CreatedAt;
}

/** View: each routing decision joined to its task's status and scores (null until they exist). */
export interface RoutingDecisionOutcomesView {
  decision_id: string;
  user_id: string;
  created_at: Date;
  chosen_agent_id: string;
  best_agent_id: string | null;
  reason: RoutingReason;
  task_id: string | null;
  task_agent_id: string | null;
  task_status: TaskStatus | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  user_rating: number | null;
  peer_score: number | null;
  overall_score: number | null;
  judge_score: number | null;
  project_id: string;
}

export type EvaluationKind = 'judge' | 'heuristic';

/** One evaluator's verdict on a task (one row per task per kind); its usage is never charged to the agent. */
export interface TaskEvaluationsTable {
  id: Generated<string>;
  task_id: string;
  kind: EvaluationKind;
  status: 'done' | 'failed';
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  reasoning: ColumnType<string, string | undefined, string>;
  source: EvaluationKind;
  evaluator_version: string;
  model: string | null;
  /** Null when the provider did not report usage: unknown, not 0. */
  prompt_tokens: ColumnType<number | null, number | null | undefined, number | null>;
  completion_tokens: ColumnType<number | null, number | null | undefined, number | null>;
  estimated_cost: number | null;
  failure_reason: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A token bucket per limited activity (LLM evaluations). */
export interface EvaluationRateLimitsTable {
  name: string;
  tokens: number;
  refilled_at: Timestamp;
}

/** Roles of a project's members, weakest first. */
export const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];
/** What an API key may do. */
export const KEY_SCOPES = ['ingest', 'feedback', 'read', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export interface ProjectsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
}

export interface AccountsTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  created_at: CreatedAt;
  disabled_at: Timestamp | null;
}

export interface ProjectMembersTable {
  project_id: string;
  account_id: string;
  role: Role;
  created_at: CreatedAt;
}

export interface SessionsTable {
  token_hash: Buffer;
  account_id: string;
  csrf_token: string;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  project_id: string;
  name: string;
  prefix: string;
  secret_hash: Buffer;
  scopes: KeyScope[];
  allowed_origins: ColumnType<string[], string[] | undefined, string[]>;
  created_by: string;
  created_by_account_id: string | null;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export type AuditActorKind = 'account' | 'key' | 'local' | 'cli';

export interface AuditLogTable {
  id: Generated<string>;
  project_id: string;
  at: CreatedAt;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target: string;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
}

export interface RateLimitCountersTable {
  bucket: string;
  window_start: Timestamp;
  amount: ColumnType<number, number | string, number | string>;
}

/** A received OpenTelemetry span (migration 012): stored once per (project, trace, span). */
export interface OtelSpansTable {
  project_id: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: number;
  /** Nanoseconds since the epoch (BIGINT: pg returns it as text). */
  start_time_unix_nano: ColumnType<string, string | bigint, never>;
  end_time_unix_nano: ColumnType<string, string | bigint, never>;
  status_code: number;
  status_message: string;
  attributes: Json<Record<string, unknown>>;
  resource: Json<Record<string, unknown>>;
  scope_name: string;
  scope_version: string | null;
  events: Json<unknown[]>;
  /** `agent`: the span is a task; `step`: a node of its agent span's task. */
  role: 'agent' | 'step';
  /** An agent span's task, or the task a step was attached to; null while a step waits for its agent span. */
  task_id: string | null;
  /** An agent span's gen_ai.conversation.id (its task's session). */
  conversation_id: string | null;
  received_at: CreatedAt;
}

/** A `gen_ai.evaluation.result` span event: a score given outside Merit, shown beside the judge's. */
export interface OtelEvaluationScoresTable {
  id: Generated<string>;
  project_id: string;
  task_id: string;
  trace_id: string;
  span_id: string;
  event_index: number;
  name: string;
  score_value: number | null;
  score_label: string | null;
  explanation: string | null;
  response_id: string | null;
  source: ColumnType<'otel', 'otel' | undefined, never>;
  evaluated_at: Timestamp;
  created_at: CreatedAt;
}

export type ArenaWinner = 'model_a' | 'model_b' | 'tie' | 'tie (bothbad)';
export type ArenaBattleSource = 'vote' | 'llm_judge' | 'api' | 'import';
export type ArenaVote = 'A' | 'B' | 'tie' | 'bothbad';

/** Arena (migration 013): a blind comparison of two agents' answers to one command, shown as A and B. */
export interface ArenaComparisonsTable {
  project_id: string;
  id: Generated<string>;
  user_id: string;
  command: string;
  category: string | null;
  agent_a: string;
  agent_b: string;
  task_a_id: string | null;
  task_b_id: string | null;
  llm_judge: ColumnType<boolean, boolean | undefined, boolean>;
  vote: ArenaVote | null;
  voted_by: string | null;
  voted_at: Timestamp | null;
  created_at: CreatedAt;
}

/** Arena (migration 013): one battle between two agents, with FastChat's winner labels. */
export interface ArenaBattlesTable {
  project_id: string;
  id: Generated<string>;
  category: string | null;
  agent_a: string;
  agent_b: string;
  winner: ArenaWinner;
  judge: string;
  source: ArenaBattleSource;
  command: string | null;
  task_a_id: string | null;
  task_b_id: string | null;
  comparison_id: string | null;
  anony: boolean | null;
  reasoning: string | null;
  external_key: string | null;
  recorded_by: string | null;
  tstamp: ColumnType<Date, Date | string | undefined, never>;
  created_at: CreatedAt;
}

export interface Database {
  projects: ProjectsTable;
  accounts: AccountsTable;
  project_members: ProjectMembersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  rate_limit_counters: RateLimitCountersTable;
  otel_spans: OtelSpansTable;
  otel_evaluation_scores: OtelEvaluationScoresTable;
  agents: AgentsTable;
  objective_templates: ObjectiveTemplatesTable;
  tasks: TasksTable;
  agent_performance_scores: AgentPerformanceScoresTable;
  agent_peer_evaluations: AgentPeerEvaluationsTable;
  agent_node_performance: AgentNodePerformanceTable;
  agent_performance_stats: AgentPerformanceStatsTable;
  agent_category_stats: AgentCategoryStatsTable;
  task_evaluations: TaskEvaluationsTable;
  evaluation_rate_limits: EvaluationRateLimitsTable;
  routing_decisions: RoutingDecisionsTable;
  routing_decision_outcomes: RoutingDecisionOutcomesView;
  routing_objectives: RoutingObjectivesTable;
  arena_comparisons: ArenaComparisonsTable;
  arena_battles: ArenaBattlesTable;
  task_daily_rollups: TaskDailyRollupsTable;
}

export type AgentRow = Selectable<AgentsTable>;
export type TaskRow = Selectable<TasksTable>;
export type NewTask = Insertable<TasksTable>;
export type TaskUpdate = Updateable<TasksTable>;
export type ScoreRow = Selectable<AgentPerformanceScoresTable>;
export type NewScore = Insertable<AgentPerformanceScoresTable>;
export type NodeRow = Selectable<AgentNodePerformanceTable>;
export type NewNode = Insertable<AgentNodePerformanceTable>;
export type AgentStatsRow = Selectable<AgentPerformanceStatsTable>;
export type CategoryStatsRow = Selectable<AgentCategoryStatsTable>;
export type TemplateRow = Selectable<ObjectiveTemplatesTable>;
export type PeerEvaluationRow = Selectable<AgentPeerEvaluationsTable>;
export type TaskEvaluationRow = Selectable<TaskEvaluationsTable>;
export type RoutingDecisionRow = Selectable<RoutingDecisionsTable>;
export type NewRoutingDecision = Insertable<RoutingDecisionsTable>;
export type ProjectRow = Selectable<ProjectsTable>;
export type AccountRow = Selectable<AccountsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
