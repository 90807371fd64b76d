/**
 * Wire types for the Merit HTTP API (docs/API.md). Glossary: task = one command executed by one agent;
 * node = one step inside a task; rating = a user's 1-5 stars; score = a 0-1 quality figure;
 * category = a task's objective category.
 */

export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface Agent {
  agent_id: string;
  nickname: string;
  display_name: string;
  role: string;
  specializations: string[];
  is_reviewer: boolean;
  is_orchestrator: boolean;
  active: boolean;
  model: string | null;
  simulated: boolean;
  running_tasks: number;
}

export interface Node {
  id: string;
  node_name: string;
  sequence: number;
  status: string;
  duration_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number;
  success: boolean;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
}

export interface Score {
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  efficiency_score: number | null;
  overall_score: number | null;
  peer_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  /** Characters of the whole feedback (a list carries its first 2,000 only). */
  user_feedback_length: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  reward_points: number;
}

export interface Task {
  id: string;
  user_id: string;
  agent_id: string;
  /** null when the task names an agent Merit does not know. */
  nickname: string | null;
  command: string;
  command_length: number;
  objective_category: string;
  category_confidence: number | null;
  /** How the category was set: 'explicit', 'classifier', 'llm'... */
  category_source: string;
  status: TaskStatus;
  current_node: string | null;
  result: string | null;
  result_length: number | null;
  error: string | null;
  error_length: number | null;
  /** Why a failed task failed: 'error' (reported) or 'timed_out' (no activity for too long). */
  failure_reason: 'error' | 'timed_out' | null;
  /**
   * True when this is a list's preview (the task list, live events): a long command, result, error or
   * feedback was cut; `getTask` gives them whole.
   */
  truncated: boolean;
  model: string | null;
  simulated: boolean;
  /** Where the task came from; 'mission_control' tasks were created by a command and routed. */
  source: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  nodes?: Node[];
  score?: Score | null;
  /** A completed task's automatic evaluation; null unless completed; live events may leave it out. */
  evaluation_status?: 'pending' | 'evaluated' | 'failed' | null;
}

/** One page of the task list, newest first; pass `next_cursor` back for the next (older) page. */
export interface TaskPage {
  tasks: Task[];
  next_cursor: string | null;
}

export interface Ranking {
  agent_id: string;
  nickname: string;
  /** null while the agent is provisional (not enough scored work to be ranked). */
  rank: number | null;
  total_tasks: number;
  successful_tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  /** Sum over the priced tasks; null when none of the agent's finished tasks has a known cost. */
  total_cost: number | null;
  priced_tasks: number;
  /** Finished tasks of unknown cost (a model without a price, or a provider that reported no usage). */
  unpriced_tasks: number;
  unmetered_tasks: number;
  cost_efficiency_score: number | null;
  days_active: number;
  rated_tasks: number;
  reward_points: number;
  provisional: boolean;
  failed_tasks: number;
  success_rate: number | null;
  /** Posterior mean of the overall score: the point score_lower..score_upper qualifies (always inside). */
  score_estimate: number | null;
  /** Credible interval around score_estimate; the leaderboard draws a bar when both ends are present. */
  score_lower: number | null;
  score_upper: number | null;
  scored_tasks: number;
  /** Completed tasks without an overall score yet (no rating, judge or peer score): left out of the averages. */
  not_evaluated_tasks: number;
  rating_lower: number | null;
  rating_upper: number | null;
  /** Over the priced tasks only. */
  avg_cost_per_task: number | null;
  total_tokens: number | null;
  avg_duration_ms: number | null;
}

export interface Leaderboard {
  rankings: Ranking[];
  category: string | null;
  last_updated: string | null;
  min_sample: number;
  level: number;
}

/** An agent's overall figures, the same shape as its leaderboard row. */
export type AgentStats = Ranking;

export interface CategoryStats {
  objective_category: string;
  total_tasks: number;
  successful_tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number | null;
  priced_tasks: number;
  unpriced_tasks: number;
  avg_duration_ms: number | null;
  avg_tokens: number | null;
  reward_points: number;
}

export interface ScoredTask {
  task_id: string;
  command: string;
  command_length: number;
  objective_category: string;
  status: TaskStatus;
  model: string | null;
  overall_score: number | null;
  efficiency_score: number | null;
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  user_feedback_length: number | null;
  /** True when command or user_feedback was cut to a preview. */
  truncated: boolean;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  created_at: string;
  completed_at: string | null;
  simulated: boolean;
  peer_score: number | null;
  reward_points: number;
}

export interface AgentPerformance {
  agent: Agent;
  /** null until the agent has finished a task. */
  stats: AgentStats | null;
  categories: CategoryStats[];
  tasks: ScoredTask[];
  total: number;
  limit: number;
  offset: number;
  /** The `cursor` of the next (older) page of tasks; null on the last page. */
  next_cursor: string | null;
}

export interface NodeStats {
  node_name: string;
  runs: number;
  avg_duration_ms: number | null;
  total_duration_ms: number | null;
  avg_tokens: number | null;
  total_tokens: number | null;
  success_rate: number;
}

export interface TrendPoint {
  bucket_start: string;
  tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number | null;
}

/** One cell of the cost-against-quality grid: its tasks' count and mean cost and score. */
export interface CostQualityCell {
  tasks: number;
  avg_cost: number;
  avg_score: number;
}

export interface FeedbackResult {
  success: boolean;
  message: string;
}

/** The state of a task's evaluation or peer-review job. */
export interface EvaluationState {
  status: 'pending' | 'done' | 'failed' | 'not_scheduled';
  reason: string | null;
  attempts: number;
  next_attempt_at: string | null;
}

/** One score with the evaluator (source) and evaluator version that produced it. */
export interface ScoreWithSource {
  value: number | null;
  source: string | null;
  version: string | null;
}

export type ScoreKind =
  | 'accuracy'
  | 'relevance'
  | 'completeness'
  | 'efficiency'
  | 'peer'
  | 'user_rating'
  | 'overall';

export interface EvaluatorUsage {
  model: string | null;
  /** Null when the provider reported no usage, or no paid call was made (offline evaluator). */
  prompt_tokens: number | null;
  completion_tokens: number | null;
  estimated_cost: number | null;
}

export interface EvaluatorVerdict {
  kind: 'judge' | 'heuristic';
  status: 'done' | 'failed';
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  reasoning: string;
  source: string;
  evaluator_version: string;
  failure_reason: string | null;
  attempts: number;
  usage: EvaluatorUsage;
  created_at: string;
}

export interface PeerReview {
  reviewer_agent_id: string;
  reviewer_nickname: string;
  perspective: string;
  /** A review that failed for good has status 'failed', its reason and no score. */
  status: 'done' | 'failed';
  failure_reason: string | null;
  /** Attempts the review's job made, the last one included. */
  attempts: number;
  score: number | null;
  /** How much this reviewer counts, from its agreement with users' ratings. */
  reviewer_weight: number;
  strengths: string[];
  weaknesses: string[];
  suggestions: string[];
  review_text: string;
  source: string;
  evaluator_version: string;
  usage: { prompt_tokens: number | null; completion_tokens: number | null; estimated_cost: number | null };
  created_at: string | null;
}

export interface AppliedReward {
  rule: string;
  points: number;
  reason: string;
}

/** An evaluator's own stored usage (never charged to the agent); null while nothing is stored. */
export interface EvaluatorSpend {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  estimated_cost: number | null;
}

/** One evaluator of a task (the judge or offline evaluator, or one reviewer) with its own state. */
export interface EvaluatorState {
  /** 'judge' or 'heuristic', or the reviewer's agent id. */
  evaluator: string;
  role: 'evaluation' | 'peer_review';
  reviewer_agent_id: string | null;
  status: 'pending' | 'done' | 'failed' | 'not_scheduled';
  /** The last error while pending or once failed. */
  reason: string | null;
  attempts: number;
  next_attempt_at: string | null;
  spend: EvaluatorSpend;
}

export interface ExternalScore {
  name: string;
  /** As reported, on the evaluator's own scale; null when it gave only a label. */
  value: number | null;
  label: string | null;
  explanation: string | null;
  source: string;
  evaluated_at: string;
}

export interface TaskEvaluation {
  task_id: string;
  evaluation: EvaluationState;
  /** All reviewers together: pending while any is, failed when every one failed, else done. */
  peer_review: EvaluationState;
  evaluators: EvaluatorState[];
  scores: Record<ScoreKind, ScoreWithSource>;
  evaluations: EvaluatorVerdict[];
  peer_reviews: PeerReview[];
  /** Scores the agent's own evaluators reported (OpenTelemetry gen_ai.evaluation.result events). */
  external_scores: ExternalScore[];
  rewards: { points: number; applied: AppliedReward[] };
}

/** How well a reviewer's scores agree with users' ratings, and the weight its reviews get. */
export interface ReviewerAgreement {
  agent_id: string;
  nickname: string;
  perspective: string | null;
  configured: boolean;
  reviews: number;
  /** Reviews of tasks the user also rated. */
  n: number;
  correlation: number | null;
  mean_abs_error: number | null;
  weight: number;
}

export interface ScoreInterval {
  lower: number;
  upper: number;
}

/** The router's estimate for one agent: expected reward (0-1) with its 90% credible interval. */
export interface AgentEvaluation {
  agent_id: string;
  nickname: string;
  expected_score: number;
  interval: ScoreInterval;
  sampled_score: number | null;
  adjusted_score: number | null;
  observations: number;
  /** The agent declares the category or its template recommends it (the router's prior). */
  specialist: boolean;
  expected_cost: number | null;
  expected_duration_ms: number | null;
  load: number;
  excluded_because: 'inactive' | 'over_cost' | 'over_duration' | null;
}

/** One line of a routing explanation's table; the explanation sentence is rendered from these rows. */
export interface RoutingCandidateRow extends AgentEvaluation {
  chosen: boolean;
}

export interface RoutingConstraints {
  max_cost: number | null;
  max_duration_ms: number | null;
  load_penalty: number;
  excluded_agent_ids: string[];
}

export interface RoutingOutcome {
  task_status: TaskStatus | null;
  reward: number | null;
  user_rating: number | null;
  judge_score: number | null;
  peer_score: number | null;
  overall_score: number | null;
}

/** A stored routing decision ("why this agent?") with its task's outcome. */
export interface StoredRoutingDecision {
  decision_id: string;
  command: string;
  command_length: number;
  /** True when a list cut the command to a preview. */
  truncated: boolean;
  category: string;
  category_confidence: number | null;
  category_source: string;
  reason: 'mention' | 'thompson' | 'fallback_constraints';
  agent_id: string;
  nickname: string;
  expected_score: number;
  interval: ScoreInterval;
  sampled_score: number | null;
  observations: number;
  best_agent_id: string | null;
  explanation: string;
  /** The table `explanation` was written from: every agent weighed, by expected score, the chosen one marked. */
  candidates: RoutingCandidateRow[];
  /** Stored as the router wrote them: one estimate per other agent. */
  runners_up: AgentEvaluation[];
  constraints: RoutingConstraints;
  task_id: string | null;
  created_at: string;
  outcome: RoutingOutcome;
}

export interface RoutingQualityDay {
  day: string;
  decisions: number;
  routed: number;
  rewarded: number;
  mean_reward: number | null;
  best_agent_share: number | null;
}

export interface RoutingQuality {
  days: RoutingQualityDay[];
  overall: Omit<RoutingQualityDay, 'day'>;
  since: string;
}

/** How Merit tells who is calling: `local` (the seed's `?user_id=`) or `required` (sessions and keys). */
export type AuthMode = 'local' | 'required';

export type ProjectRole = 'owner' | 'admin' | 'member' | 'viewer';

export interface Account {
  id: string;
  email: string;
}

export interface Project {
  id: string;
  slug: string;
  name: string;
}

export interface ProjectMembership extends Project {
  role: ProjectRole;
}

/** GET /api/auth/session and POST /api/auth/login. In local mode: authenticated, no account, owner. */
export interface AuthSession {
  mode: AuthMode;
  authenticated: boolean;
  account: Account | null;
  project: Project | null;
  role: ProjectRole | null;
  projects: ProjectMembership[];
  csrf_token: string | null;
}

export const KEY_SCOPES = ['ingest', 'feedback', 'read', 'admin'] as const;

export type KeyScope = (typeof KEY_SCOPES)[number];

/** A project's API key as listed; its secret is never listed, only shown once at creation. */
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: KeyScope[];
  allowed_origins: string[];
  /** Who created it: an account's email, or how it was made (the CLI). */
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CreatedApiKey {
  key: ApiKey;
  secret: string;
}
