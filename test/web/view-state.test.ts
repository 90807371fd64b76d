import { describe, expect, it } from 'vitest';
import type { Task } from '../../web/src/lib/api-schemas.js';
import { buildAgentHash, buildHomeHash, parseRoute, parseViewState } from '../../web/src/lib/route.js';
import { matchesFilters } from '../../web/src/lib/tasks.js';

describe('navigation state in the hash', () => {
  it('reads the tab, range and filters, and ignores values it does not know', () => {
    expect(
      parseViewState('#/?tab=leaderboard&agent=agent_a&status=failed&unrated=true&q=sales+data'),
    ).toEqual({
      tab: 'leaderboard',
      range: 'all',
      filters: { agent: 'agent_a', status: 'failed', unrated: true, q: 'sales data' },
    });
    expect(parseViewState('#/?tab=secrets&range=1y&status=done&mine=yes')).toEqual({
      tab: null,
      range: 'all',
      filters: {},
    });
    expect(parseViewState('')).toEqual({ tab: null, range: 'all', filters: {} });
  });

  it('writes what it reads, leaving defaults out', () => {
    const hash = buildHomeHash({ tab: 'routing', filters: { category: 'research', mine: true, q: 'a&b' } });
    expect(hash).toBe('#/?tab=routing&category=research&mine=true&q=a%26b');
    expect(parseViewState(hash).filters).toEqual({ category: 'research', mine: true, q: 'a&b' });
    expect(buildHomeHash()).toBe('#/');
    expect(buildAgentHash('a/b', { range: '7d', tab: 'leaderboard' })).toBe(
      '#/agents/a%2Fb?tab=leaderboard&range=7d',
    );
  });

  it('opens the agent view whatever query follows its path', () => {
    expect(parseRoute('#/agents/agent_a?range=30d')).toEqual({ name: 'agent', agentId: 'agent_a' });
    expect(parseViewState('#/agents/agent_a?range=30d').range).toBe('30d');
  });
});

describe('matchesFilters (live events in a filtered stream)', () => {
  const task = {
    id: 't1',
    user_id: 'u1',
    agent_id: 'agent_a',
    objective_category: 'research',
    status: 'completed',
    command: 'Research quantum computing',
    result: 'Qubits are fragile',
    score: { user_rating: null },
  } as unknown as Task;

  it('lets a task through every filter it meets', () => {
    expect(matchesFilters(task, {}, 'u1')).toBe(true);
    expect(
      matchesFilters(
        task,
        {
          agent: 'agent_a',
          category: 'research',
          status: 'completed',
          unrated: true,
          mine: true,
          q: 'QUBITS',
        },
        'u1',
      ),
    ).toBe(true);
  });

  it('keeps out a task any filter excludes', () => {
    expect(matchesFilters(task, { agent: 'agent_b' }, 'u1')).toBe(false);
    expect(matchesFilters(task, { status: 'failed' }, 'u1')).toBe(false);
    expect(matchesFilters(task, { mine: true }, 'u2')).toBe(false);
    expect(matchesFilters(task, { q: 'classical' }, 'u1')).toBe(false);
    expect(
      matchesFilters({ ...task, score: { user_rating: 4 } } as unknown as Task, { unrated: true }, 'u1'),
    ).toBe(false);
  });
});
