import type { Agent } from './api-schemas.js';

const NICKNAME_CHAR = /[A-Za-z0-9_-]/;

export interface MentionQuery {
  /** Index of the `@`. */
  start: number;
  /** Index just past the typed part of the nickname (the cursor). */
  end: number;
  /** What has been typed after the `@`. */
  query: string;
}

/** The `@partial` the cursor sits in, if any (an `@` at the start or after whitespace). */
export function findMentionAtCursor(text: string, cursor: number): MentionQuery | null {
  let index = cursor - 1;
  while (index >= 0 && NICKNAME_CHAR.test(text.charAt(index))) index -= 1;
  if (index < 0 || text.charAt(index) !== '@') return null;
  if (index > 0 && !/\s/.test(text.charAt(index - 1))) return null;
  return { start: index, end: cursor, query: text.slice(index + 1, cursor) };
}

/** Agents whose nickname starts with the query come first, then those matching elsewhere. */
export function filterAgentsForMention(agents: readonly Agent[], query: string, limit = 8): Agent[] {
  const needle = query.toLowerCase();
  const active = agents.filter((agent) => agent.active);
  const prefix = active.filter((agent) => agent.nickname.toLowerCase().startsWith(needle));
  const elsewhere = active.filter(
    (agent) =>
      !agent.nickname.toLowerCase().startsWith(needle) &&
      (agent.nickname.toLowerCase().includes(needle) ||
        agent.display_name.toLowerCase().includes(needle) ||
        agent.role.toLowerCase().includes(needle)),
  );
  return [...prefix, ...elsewhere].slice(0, limit);
}

/** Replaces the `@partial` with `@nickname ` and returns the new text and cursor position. */
export function completeMention(text: string, mention: MentionQuery, nickname: string) {
  const rest = text.slice(mention.end).replace(/^[A-Za-z0-9_-]*/, '');
  const inserted = `@${nickname}${rest.startsWith(' ') ? '' : ' '}`;
  const nextText = text.slice(0, mention.start) + inserted + rest;
  const cursor = mention.start + inserted.length + (rest.startsWith(' ') ? 1 : 0);
  return { text: nextText, cursor };
}

/** The leading `@nickname` of a command, as the server reads it; null when the orchestrator picks. */
export function parseCommandMention(command: string): string | null {
  const match = /^\s*@([A-Za-z0-9_-]+)(?=$|[\s,:;.!?])/.exec(command);
  return match?.[1] ?? null;
}

/** Moves the highlighted option with wrap-around. */
export function moveHighlight(current: number, delta: number, count: number): number {
  if (count === 0) return -1;
  if (current < 0) return delta > 0 ? 0 : count - 1;
  return (current + delta + count) % count;
}
