import type { Task, TaskStatus } from './api-schemas.js';
import { parseCommandMention } from './mentions.js';
import type { StreamFilters } from './route.js';

const STATUS_ORDER: Record<TaskStatus, number> = { queued: 0, running: 1, completed: 2, failed: 2 };

function compareTasks(a: Task, b: Task): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Orders tasks oldest first, as the conversation stream shows them. */
export function sortTasksOldestFirst(tasks: readonly Task[]): Task[] {
  return [...tasks].sort(compareTasks);
}

/**
 * Merges one task (from an event or a response) into the list by id. A stale update never moves a task
 * back (a history page fetched before a completion event must not undo it), and fields an update leaves
 * out (`score`, `nodes`) keep their known value.
 */
export function upsertTask(tasks: readonly Task[], incoming: Task): Task[] {
  const index = tasks.findIndex((task) => task.id === incoming.id);
  if (index === -1) return sortTasksOldestFirst([...tasks, incoming]);
  const existing = tasks[index] as Task;
  if (STATUS_ORDER[incoming.status] < STATUS_ORDER[existing.status]) return [...tasks];
  const merged: Task = {
    ...existing,
    ...incoming,
    score: incoming.score !== undefined ? incoming.score : existing.score,
    nodes: incoming.nodes !== undefined ? incoming.nodes : existing.nodes,
  };
  const next = [...tasks];
  next[index] = merged;
  return next;
}

export function mergeTasks(tasks: readonly Task[], incoming: readonly Task[]): Task[] {
  return incoming.reduce<Task[]>((list, task) => upsertTask(list, task), [...tasks]);
}

/** Records a rating the user just gave, so the widget shows it without refetching the task. */
export function applyRating(
  tasks: readonly Task[],
  taskId: string,
  rating: number,
  feedback: string | null,
): Task[] {
  return tasks.map((task) => {
    if (task.id !== taskId) return task;
    const score = task.score ?? {
      accuracy_score: null,
      relevance_score: null,
      completeness_score: null,
      efficiency_score: null,
      overall_score: null,
      peer_score: null,
      user_rating: null,
      user_feedback: null,
      user_feedback_length: null,
      total_tokens: task.total_tokens,
      estimated_cost: task.estimated_cost,
      reward_points: 0,
      score_sources: {},
    };
    const length = feedback === null ? null : [...feedback].length;
    return {
      ...task,
      score: { ...score, user_rating: rating, user_feedback: feedback, user_feedback_length: length },
    };
  });
}

/** True when a list's preview cut this text (its full length, in characters, is longer). */
export function isCut(text: string | null, fullLength: number | null): boolean {
  return text !== null && fullLength !== null && [...text].length < fullLength;
}

/** True when the router chose the agent: a Mission Control command without a leading `@nickname`. */
export function isRoutedByRouter(task: Pick<Task, 'source' | 'command'>): boolean {
  return task.source === 'mission_control' && parseCommandMention(task.command) === null;
}

/**
 * Whether a task (from a live event) belongs in a stream narrowed by these filters, as the server's list
 * would decide; `ownUserId` is whose tasks "mine" means.
 */
export function matchesFilters(task: Task, filters: StreamFilters, ownUserId: string): boolean {
  if (filters.agent !== undefined && task.agent_id !== filters.agent) return false;
  if (filters.category !== undefined && task.objective_category !== filters.category) return false;
  if (filters.status !== undefined && task.status !== filters.status) return false;
  if (filters.unrated && (task.status !== 'completed' || task.score?.user_rating != null)) return false;
  if (filters.mine && task.user_id !== ownUserId) return false;
  if (filters.q !== undefined) {
    const needle = filters.q.toLowerCase();
    const found = [task.command, task.result].some((text) => text?.toLowerCase().includes(needle));
    if (!found) return false;
  }
  return true;
}
