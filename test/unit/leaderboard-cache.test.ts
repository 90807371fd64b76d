import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/event-bus.js';
import { LeaderboardCache } from '../../src/stats/leaderboard-cache.js';

describe('LeaderboardCache', () => {
  it('answers from memory until a leaderboard event, then loads again', async () => {
    const events = new EventBus();
    const cache = new LeaderboardCache<number>(events, 60_000);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('all', load)).toBe(1);
    expect(await cache.get('all', load)).toBe(1);
    events.deliver({ type: 'task', projectId: 'p', userId: 'u', taskId: 't' });
    expect(await cache.get('all', load)).toBe(1);
    events.deliver({ type: 'leaderboard', projectId: null, agentIds: ['agent_a'] });
    expect(await cache.get('all', load)).toBe(2);
  });

  it('loads again once the time-to-live has passed (writes by other processes)', async () => {
    let now = 0;
    const cache = new LeaderboardCache<number>(new EventBus(), 1000, () => now);
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('all', load);
    now = 999;
    expect(await cache.get('all', load)).toBe(1);
    now = 1000;
    expect(await cache.get('all', load)).toBe(2);
  });

  it('does not keep an answer loaded while statistics changed', async () => {
    const events = new EventBus();
    const cache = new LeaderboardCache<string>(events, 60_000);
    const stale = cache.get('all', async () => {
      events.deliver({ type: 'leaderboard', projectId: null, agentIds: [] });
      return 'loaded before the change';
    });
    expect(await stale).toBe('loaded before the change');
    expect(await cache.get('all', async () => 'fresh')).toBe('fresh');
  });

  it('keeps separate answers per key', async () => {
    const cache = new LeaderboardCache<string>(new EventBus(), 60_000);
    await cache.get('all', async () => 'overall');
    await cache.get('research', async () => 'research');
    expect(await cache.get('all', async () => 'other')).toBe('overall');
    expect(await cache.get('research', async () => 'other')).toBe('research');
  });

  it('keeps at most its bound of keys, dropping the least recently stored', async () => {
    const cache = new LeaderboardCache<string>(new EventBus(), 60_000, Date.now, 2);
    await cache.get('a', async () => 'a1');
    await cache.get('b', async () => 'b1');
    await cache.get('c', async () => 'c1');
    expect(await cache.get('b', async () => 'b2')).toBe('b1');
    expect(await cache.get('c', async () => 'c2')).toBe('c1');
    expect(await cache.get('a', async () => 'a2')).toBe('a2');
  });
});
