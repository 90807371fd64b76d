/**
 * Wire types for the Merit HTTP API (docs/API.md). Glossary: task = one command executed by one agent;
 * node = one step inside a task; rating = a user's 1-5 stars; score = a 0-1 quality figure;
 * category = a task's objective category.
 */

export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed';

export const CATEGORIES = [
  'research',
  'analysis',
  'writing',
  'planning',
  'compliance',
  'coding',
  'data',
  'chat',
  'review',
  'general',
] as const;

export type Category = (typeof CATEGORIES)[number];

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
  total_tokens: number | null;
  success: boolean | null;
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
  user_rating: number | null;
  user_feedback: string | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  reward_points: number | null;
}

export interface Task {
  id: string;
  user_id: string;
  agent_id: string;
  nickname: string;
  command: string;
  objective_category: string | null;
  category_confidence: number | null;
  status: TaskStatus;
  current_node: string | null;
  result: string | null;
  error: string | null;
  model: string | null;
  simulated: boolean;
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
}

export interface Ranking {
  agent_id: string;
  nickname: string;
  /** null while the agent is provisional (not enough rated work to be ranked). */
  rank: number | null;
  total_tasks: number;
  successful_tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number;
  cost_efficiency_score: number | null;
  days_active: number;
  rated_tasks: number;
  reward_points: number;
  /** Optional confidence interval around avg_overall_score, when the server provides one. */
  score_lower?: number | null;
  score_upper?: number | null;
}

export interface Leaderboard {
  rankings: Ranking[];
  category: string | null;
  last_updated: string | null;
}

/** Aggregates for one agent; docs/API.md names it without listing fields, so all but the core are optional. */
export interface AgentStats {
  total_tasks: number;
  successful_tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number;
  rank?: number | null;
  rated_tasks?: number;
  reward_points?: number;
  avg_duration_ms?: number | null;
  avg_tokens?: number | null;
  cost_efficiency_score?: number | null;
  days_active?: number;
}

export interface CategoryStats {
  objective_category: string;
  total_tasks: number;
  successful_tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number;
  avg_duration_ms: number | null;
  avg_tokens: number | null;
}

export interface ScoredTask {
  task_id: string;
  command: string;
  objective_category: string | null;
  status: TaskStatus;
  model: string | null;
  overall_score: number | null;
  efficiency_score: number | null;
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  created_at: string;
  completed_at: string | null;
}

export interface AgentPerformance {
  agent: Agent;
  stats: AgentStats;
  categories: CategoryStats[];
  tasks: ScoredTask[];
  total: number;
  limit: number;
  offset: number;
}

export interface NodeStats {
  node_name: string;
  runs: number;
  avg_duration_ms: number | null;
  total_duration_ms: number | null;
  avg_tokens: number | null;
  total_tokens: number | null;
  success_rate: number | null;
}

export interface TrendPoint {
  bucket_start: string;
  tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number;
}

export interface FeedbackResult {
  success: boolean;
  message: string;
}
