import type { LiveEvent } from './event-bus.js';

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;

/** One notification: the event, and which process published it (it already delivered it to itself). */
export interface EventEnvelope {
  readonly origin: string | null;
  readonly event: LiveEvent;
}

/**
 * The notification payloads of one event, each under MAX_PAYLOAD_BYTES: a leaderboard change naming
 * more agents than one payload holds is split into several that together name them all.
 */
export function encodeEvent(event: LiveEvent, origin: string | null): string[] {
  const whole = JSON.stringify({ origin, event });
  if (byteLength(whole) <= MAX_PAYLOAD_BYTES) return [whole];
  if (event.type !== 'leaderboard') throw new Error(`a ${event.type} event does not fit in one notification`);
  const payloads: string[] = [];
  let batch: string[] = [];
  const encode = (agentIds: string[]) => JSON.stringify({ origin, event: { ...event, agentIds } });
  for (const agentId of event.agentIds) {
    if (batch.length > 0 && byteLength(encode([...batch, agentId])) > MAX_PAYLOAD_BYTES) {
      payloads.push(encode(batch));
      batch = [];
    }
    batch.push(agentId);
    if (byteLength(encode(batch)) > MAX_PAYLOAD_BYTES)
      throw new Error('an agent id does not fit in a notification');
  }
  if (batch.length > 0) payloads.push(encode(batch));
  return payloads;
}

/** The envelope a payload carries, or undefined when it is not one of Merit's (never trusted blindly). */
export function decodeEvent(payload: string): EventEnvelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const { origin, event } = parsed;
  if (origin !== null && typeof origin !== 'string') return undefined;
  if (!isRecord(event)) return undefined;
  const projectId = event.projectId;
  switch (event.type) {
    case 'task':
      if (
        typeof projectId !== 'string' ||
        typeof event.userId !== 'string' ||
        typeof event.taskId !== 'string'
      )
        return undefined;
      return { origin, event: { type: 'task', projectId, userId: event.userId, taskId: event.taskId } };
    case 'leaderboard': {
      const agentIds = event.agentIds;
      if (!isNullableString(projectId) || !Array.isArray(agentIds)) return undefined;
      if (!agentIds.every((id) => typeof id === 'string')) return undefined;
      return { origin, event: { type: 'leaderboard', projectId, agentIds: agentIds as string[] } };
    }
    case 'categories':
    case 'agents':
      if (!isNullableString(projectId)) return undefined;
      return { origin, event: { type: event.type, projectId } };
    default:
      return undefined;
  }
}

/**
 * What a process that may have missed notifications (its LISTEN connection was down) announces to
 * itself: every project's statistics, categories and agents may have changed.
 */
export function broadInvalidation(): LiveEvent[] {
  return [
    { type: 'leaderboard', projectId: null, agentIds: [] },
    { type: 'categories', projectId: null },
    { type: 'agents', projectId: null },
    { type: 'resync' },
  ];
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}
