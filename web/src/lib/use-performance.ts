import { useCallback, useState } from 'react';
import { describeError } from './api-client.js';
import { useApi } from './api-context.js';
import type { AgentPerformance, FeedbackResult, Leaderboard } from './api-types.js';

export interface UsePerformance {
  /** True while any request made through this hook is in flight. */
  loading: boolean;
  /** The server's message for the last failed request; cleared when a new request starts. */
  error: string | null;
  submitTaskFeedback: (taskId: string, rating: number, feedback?: string) => Promise<FeedbackResult>;
  fetchLeaderboard: (category?: string) => Promise<Leaderboard>;
  fetchAgentPerformance: (
    agentId: string,
    page?: { limit?: number; cursor?: string },
  ) => Promise<AgentPerformance>;
  clearError: () => void;
}

/**
 * Performance calls (ratings, leaderboard, agent history) with loading and error state. Each call also
 * throws its error so the caller can react to that one request.
 */
export function usePerformance(): UsePerformance {
  const api = useApi();
  const [pending, setPending] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const track = useCallback(async <T>(run: () => Promise<T>): Promise<T> => {
    setPending((count) => count + 1);
    setError(null);
    try {
      return await run();
    } catch (cause) {
      setError(describeError(cause));
      throw cause;
    } finally {
      setPending((count) => count - 1);
    }
  }, []);

  const submitTaskFeedback = useCallback(
    (taskId: string, rating: number, feedback?: string) =>
      track(() => api.submitFeedback(taskId, rating, feedback)),
    [api, track],
  );
  const fetchLeaderboard = useCallback(
    (category?: string) => track(() => api.getLeaderboard(category ? { category } : {})),
    [api, track],
  );
  const fetchAgentPerformance = useCallback(
    (agentId: string, page: { limit?: number; cursor?: string } = {}) =>
      track(() => api.getAgentPerformance(agentId, page)),
    [api, track],
  );
  const clearError = useCallback(() => setError(null), []);

  return {
    loading: pending > 0,
    error,
    submitTaskFeedback,
    fetchLeaderboard,
    fetchAgentPerformance,
    clearError,
  };
}
