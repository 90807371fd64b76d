import { describe, expect, it } from 'vitest';
import { EventBus, type LiveEvent } from '../../src/events/event-bus.js';
import { decodeEvent, MAX_PAYLOAD_BYTES } from '../../src/events/event-payload.js';
import { PendingEvents } from '../../src/events/transactional-events.js';

function collect(bus: EventBus): LiveEvent[] {
  const received: LiveEvent[] = [];
  bus.subscribe((event) => received.push(event));
  return received;
}

describe('the events of one write (PendingEvents)', () => {
  it('coalesces a batch: one event per task, one leaderboard change per project naming every agent', () => {
    const bus = new EventBus();
    const received = collect(bus);
    const pending = new PendingEvents(bus);
    for (let i = 0; i < 500; i++) {
      pending.emit(
        { type: 'task', projectId: 'p1', userId: 'u1', taskId: `t${i % 3}` },
        { type: 'leaderboard', projectId: 'p1', agentIds: [`agent_${i % 4}`] },
      );
    }
    pending.emit({ type: 'leaderboard', projectId: 'p2', agentIds: ['agent_0'] });
    pending.deliver();
    expect(received).toEqual([
      { type: 'task', projectId: 'p1', userId: 'u1', taskId: 't0' },
      { type: 'leaderboard', projectId: 'p1', agentIds: ['agent_0', 'agent_1', 'agent_2', 'agent_3'] },
      { type: 'task', projectId: 'p1', userId: 'u1', taskId: 't1' },
      { type: 'task', projectId: 'p1', userId: 'u1', taskId: 't2' },
      { type: 'leaderboard', projectId: 'p2', agentIds: ['agent_0'] },
    ]);
  });

  it('lets a change of any agent (no ids) absorb the changes of named agents of the same project', () => {
    const pending = new PendingEvents(undefined);
    pending.emit(
      { type: 'leaderboard', projectId: 'p1', agentIds: ['agent_a'] },
      { type: 'leaderboard', projectId: 'p1', agentIds: [] },
      { type: 'leaderboard', projectId: 'p1', agentIds: ['agent_b'] },
    );
    expect(pending.payloads().map((payload) => decodeEvent(payload)?.event)).toEqual([
      { type: 'leaderboard', projectId: 'p1', agentIds: [] },
    ]);
  });

  it("tags the payloads with the bus's origin (untagged without a bus), each under PostgreSQL's cap", () => {
    const bus = new EventBus();
    const agentIds = Array.from({ length: 600 }, (_, i) => `agent_${i}_${'x'.repeat(40)}`);
    const tagged = new PendingEvents(bus);
    tagged.emit({ type: 'leaderboard', projectId: 'p1', agentIds });
    const payloads = tagged.payloads();
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) {
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(decodeEvent(payload)?.origin).toBe(bus.origin);
    }
    const untagged = new PendingEvents(undefined);
    untagged.emit({ type: 'agents', projectId: 'p1' });
    expect(decodeEvent(untagged.payloads()[0] as string)?.origin).toBeNull();
  });

  it('delivers once however often it is told to, refuses a resync, and a subscriber that throws stops no other', () => {
    const bus = new EventBus();
    bus.subscribe(() => {
      throw new Error('a broken subscriber');
    });
    const received = collect(bus);
    const pending = new PendingEvents(bus);
    expect(() => pending.emit({ type: 'resync' })).toThrow('never sent');
    pending.emit({ type: 'categories', projectId: 'p1' });
    pending.deliver();
    pending.deliver();
    expect(received).toEqual([{ type: 'categories', projectId: 'p1' }]);
    expect(() => pending.emit({ type: 'agents', projectId: 'p1' })).toThrow('after its transaction');
  });
});
