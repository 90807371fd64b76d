import { describe, expect, it } from 'vitest';
import type { Score, Task } from '../../web/src/lib/api-schemas.js';
import { buildAgentHash, parseRoute } from '../../web/src/lib/route.js';
import {
  applyRating,
  isRoutedByRouter,
  mergeTasks,
  sortTasksOldestFirst,
  upsertTask,
} from '../../web/src/lib/tasks.js';
import { DEFAULT_USER_ID, resolveUserId, USER_ID_STORAGE_KEY } from '../../web/src/lib/user-id.js';

function makeTask(id: string, overrides: Partial<Task> = {}): Task {
  return {
    id,
    user_id: DEFAULT_USER_ID,
    agent_id: 'agent_a',
    nickname: 'bob',
    command: `command ${id}`,
    command_length: `command ${id}`.length,
    objective_category: 'research',
    category_confidence: 0.9,
    category_source: 'classifier',
    status: 'queued',
    current_node: null,
    result: null,
    result_length: null,
    error: null,
    error_length: null,
    failure_reason: null,
    truncated: false,
    model: null,
    simulated: true,
    source: 'mission_control',
    prompt_tokens: null,
    completion_tokens: null,
    total_tokens: null,
    estimated_cost: null,
    duration_ms: null,
    created_at: '2026-02-06T10:00:00.000Z',
    started_at: null,
    completed_at: null,
    session_id: null,
    ...overrides,
  };
}

const score: Score = {
  accuracy_score: 0.8,
  relevance_score: 0.9,
  completeness_score: 0.7,
  efficiency_score: 0.6,
  overall_score: 0.75,
  peer_score: null,
  user_rating: null,
  user_feedback: null,
  user_feedback_length: null,
  total_tokens: 100,
  estimated_cost: 0.01,
  reward_points: 3,
  score_sources: {},
};

describe('task list updates', () => {
  it('orders tasks oldest first', () => {
    const tasks = [
      makeTask('b', { created_at: '2026-02-06T10:00:02.000Z' }),
      makeTask('a', { created_at: '2026-02-06T10:00:01.000Z' }),
    ];
    expect(sortTasksOldestFirst(tasks).map((task) => task.id)).toEqual(['a', 'b']);
  });

  it('adds an unseen task in time order and replaces a known one by id', () => {
    const first = upsertTask([], makeTask('b', { created_at: '2026-02-06T10:00:02.000Z' }));
    const second = upsertTask(first, makeTask('a', { created_at: '2026-02-06T10:00:01.000Z' }));
    expect(second.map((task) => task.id)).toEqual(['a', 'b']);
    const running = upsertTask(
      second,
      makeTask('a', { created_at: '2026-02-06T10:00:01.000Z', status: 'running', current_node: 'search' }),
    );
    expect(running).toHaveLength(2);
    expect(running[0]).toMatchObject({ id: 'a', status: 'running', current_node: 'search' });
  });

  it('never moves a finished task back to running when a stale update arrives', () => {
    const done = [makeTask('a', { status: 'completed', result: 'done' })];
    expect(upsertTask(done, makeTask('a', { status: 'running' }))[0]).toMatchObject({
      status: 'completed',
      result: 'done',
    });
  });

  it('keeps the known score when an update leaves it out', () => {
    const withScore = [makeTask('a', { status: 'completed', score })];
    const update = makeTask('a', { status: 'completed', result: 'again' });
    expect(upsertTask(withScore, update)[0]?.score).toEqual(score);
    expect(upsertTask(withScore, { ...update, score: null })[0]?.score).toBeNull();
  });

  it('merges a history page into live tasks without duplicates', () => {
    const live = [makeTask('a', { status: 'completed' })];
    const merged = mergeTasks(live, [
      makeTask('a'),
      makeTask('b', { created_at: '2026-02-06T09:00:00.000Z' }),
    ]);
    expect(merged.map((task) => [task.id, task.status])).toEqual([
      ['b', 'queued'],
      ['a', 'completed'],
    ]);
  });

  it('records a new rating on the task, creating the score when it had none', () => {
    const tasks = [makeTask('a', { status: 'completed', score }), makeTask('b', { status: 'completed' })];
    const rated = applyRating(applyRating(tasks, 'a', 4, 'good'), 'b', 2, null);
    expect(rated[0]?.score).toMatchObject({ overall_score: 0.75, user_rating: 4, user_feedback: 'good' });
    expect(rated[1]?.score).toMatchObject({ user_rating: 2, user_feedback: null, overall_score: null });
  });
});

describe('resolveUserId', () => {
  function makeStore(initial: Record<string, string> = {}) {
    const values = new Map(Object.entries(initial));
    return {
      values,
      getItem: (key: string) => values.get(key) ?? null,
      setItem: (key: string, value: string) => {
        values.set(key, value);
      },
    };
  }

  it('prefers the URL and remembers it', () => {
    const store = makeStore({ [USER_ID_STORAGE_KEY]: 'stored' });
    expect(resolveUserId('?user_id=from-url', store)).toBe('from-url');
    expect(store.values.get(USER_ID_STORAGE_KEY)).toBe('from-url');
  });

  it('falls back to storage, then to the default user', () => {
    expect(resolveUserId('', makeStore({ [USER_ID_STORAGE_KEY]: 'stored' }))).toBe('stored');
    expect(resolveUserId('?user_id=', makeStore())).toBe(DEFAULT_USER_ID);
    expect(resolveUserId('', null)).toBe(DEFAULT_USER_ID);
  });

  it('still works when storage throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(resolveUserId('?user_id=u1', broken)).toBe('u1');
    expect(resolveUserId('', broken)).toBe(DEFAULT_USER_ID);
  });
});

describe('routes', () => {
  it('reads the agent view from the hash and round-trips odd ids', () => {
    expect(parseRoute('#/agents/agent_a')).toEqual({ name: 'agent', agentId: 'agent_a' });
    expect(parseRoute(buildAgentHash('a/b c'))).toEqual({ name: 'agent', agentId: 'a/b c' });
  });

  it('treats anything else as home', () => {
    expect(parseRoute('')).toEqual({ name: 'home' });
    expect(parseRoute('#/')).toEqual({ name: 'home' });
    expect(parseRoute('#/agents/')).toEqual({ name: 'home' });
    expect(parseRoute('#/agents/%E0%A4%A')).toEqual({ name: 'home' });
  });
});

describe('routing explanations', () => {
  it('offers "why this agent?" only for commands the router routed', () => {
    expect(isRoutedByRouter({ source: 'mission_control', command: 'research quantum computing' })).toBe(true);
    expect(isRoutedByRouter({ source: 'mission_control', command: '@bob research quantum computing' })).toBe(
      false,
    );
    expect(isRoutedByRouter({ source: 'api', command: 'research quantum computing' })).toBe(false);
  });
});
