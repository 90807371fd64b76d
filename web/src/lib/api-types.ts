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
  /** null while the agent is provisional (not enough scored work to be ranked). */
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
  // Beyond docs/API.md: the server sends these too; optional so an older server still type-checks.
  provisional?: boolean;
  failed_tasks?: number;
  success_rate?: number | null;
  /** Interval around avg_overall_score; the leaderboard draws a bar when both ends are present. */
  score_lower?: number | null;
  score_upper?: number | null;
  scored_tasks?: number;
  rating_lower?: number | null;
  rating_upper?: number | null;
  avg_cost_per_task?: number | null;
  total_tokens?: number;
  avg_duration_ms?: number | null;
}

export interface Leaderboard {
  rankings: Ranking[];
  category: string | null;
  last_updated: string | null;
  min_sample?: number;
  level?: number;
}

/** An agent's overall figures, the same shape as its leaderboard row. */
export type AgentStats = Ranking;

export interface CategoryStats {
  objective_category: string;
  total_tasks: number;
  successful_tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number;
  avg_duration_ms: number | null;
  avg_tokens: number | null;
  reward_points?: number;
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
  simulated?: boolean;
  peer_score?: number | null;
  reward_points?: number;
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
