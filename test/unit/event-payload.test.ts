import { describe, expect, it } from 'vitest';
import {
  broadInvalidation,
  decodeEvent,
  encodeEvent,
  MAX_PAYLOAD_BYTES,
} from '../../src/events/event-payload.js';

describe('live event payloads (pg_notify)', () => {
  it('encodes an event with its origin and decodes it back', () => {
    const [payload] = encodeEvent({ type: 'task', projectId: 'p1', userId: 'u1', taskId: 't1' }, 'origin-a');
    expect(payload).toBe(
      '{"origin":"origin-a","event":{"type":"task","projectId":"p1","userId":"u1","taskId":"t1"}}',
    );
    expect(decodeEvent(payload as string)).toEqual({
      origin: 'origin-a',
      event: { type: 'task', projectId: 'p1', userId: 'u1', taskId: 't1' },
    });
  });

  it('splits a leaderboard event naming many agents into payloads under the limit, in order', () => {
    const agentIds = Array.from({ length: 500 }, (_, index) => `agent_${index}_${'x'.repeat(40)}`);
    const payloads = encodeEvent({ type: 'leaderboard', projectId: null, agentIds }, null);
    expect(payloads.length).toBe(4);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const decoded = payloads.map((payload) => decodeEvent(payload)?.event);
    expect(decoded.flatMap((event) => (event?.type === 'leaderboard' ? event.agentIds : []))).toEqual(
      agentIds,
    );
  });

  it('refuses a task event that cannot fit in one notification', () => {
    expect(() =>
      encodeEvent({ type: 'task', projectId: 'p', userId: 'u', taskId: 'x'.repeat(8000) }, null),
    ).toThrow('does not fit');
  });

  it('ignores payloads that are not Merit events', () => {
    expect(decodeEvent('not json')).toBeUndefined();
    expect(decodeEvent('[1,2]')).toBeUndefined();
    expect(decodeEvent('{"origin":5,"event":{"type":"agents","projectId":null}}')).toBeUndefined();
    expect(decodeEvent('{"origin":null,"event":{"type":"drop"}}')).toBeUndefined();
    expect(
      decodeEvent('{"origin":null,"event":{"type":"task","projectId":"p","userId":"u"}}'),
    ).toBeUndefined();
    expect(
      decodeEvent('{"origin":null,"event":{"type":"leaderboard","projectId":null,"agentIds":[1]}}'),
    ).toBeUndefined();
    expect(decodeEvent('{"origin":null,"event":{"type":"categories","projectId":null}}')).toEqual({
      origin: null,
      event: { type: 'categories', projectId: null },
    });
  });

  it('invalidates statistics, categories and agents of every project, and restarts live streams, after a lost connection', () => {
    expect(broadInvalidation()).toEqual([
      { type: 'leaderboard', projectId: null, agentIds: [] },
      { type: 'categories', projectId: null },
      { type: 'agents', projectId: null },
      { type: 'resync' },
    ]);
  });
});
