import { describe, expect, it } from 'vitest';
import type { Agent } from '../../web/src/lib/api-schemas.js';
import {
  completeMention,
  filterAgentsForMention,
  findMentionAtCursor,
  moveHighlight,
  parseCommandMention,
} from '../../web/src/lib/mentions.js';

function makeAgent(nickname: string, overrides: Partial<Agent> = {}): Agent {
  return {
    agent_id: `agent_${nickname}`,
    nickname,
    display_name: nickname[0]?.toUpperCase() + nickname.slice(1),
    role: 'Generalist',
    specializations: [],
    is_reviewer: false,
    is_orchestrator: false,
    active: true,
    model: null,
    simulated: true,
    running_tasks: 0,
    origin: 'merit',
    external_name: null,
    ...overrides,
  };
}

const agents = [
  makeAgent('bob', { role: 'Researcher' }),
  makeAgent('alice', { role: 'Analyst' }),
  makeAgent('leo', { role: 'Orchestrator', is_orchestrator: true }),
  makeAgent('bobby', { role: 'Writer' }),
  makeAgent('maya', { role: 'Reviewer', active: false }),
];

describe('findMentionAtCursor', () => {
  it('finds the partial nickname the cursor is in', () => {
    expect(findMentionAtCursor('@bo', 3)).toEqual({ start: 0, end: 3, query: 'bo' });
    expect(findMentionAtCursor('ask @al about it', 7)).toEqual({ start: 4, end: 7, query: 'al' });
  });

  it('opens on a bare @', () => {
    expect(findMentionAtCursor('hello @', 7)).toEqual({ start: 6, end: 7, query: '' });
  });

  it('ignores an @ inside a word such as an e-mail address', () => {
    expect(findMentionAtCursor('mail a@bo', 9)).toBeNull();
  });

  it('ignores text with no @ before the cursor or with a space after it', () => {
    expect(findMentionAtCursor('research quantum', 8)).toBeNull();
    expect(findMentionAtCursor('@bob research', 13)).toBeNull();
  });
});

describe('filterAgentsForMention', () => {
  it('puts nickname prefix matches first, case-insensitively', () => {
    expect(filterAgentsForMention(agents, 'BO').map((agent) => agent.nickname)).toEqual(['bob', 'bobby']);
  });

  it('also matches the role or display name, after prefix matches', () => {
    expect(filterAgentsForMention(agents, 'anal').map((agent) => agent.nickname)).toEqual(['alice']);
    expect(filterAgentsForMention(agents, 'l').map((agent) => agent.nickname)).toEqual(['leo', 'alice']);
  });

  it('lists every active agent for an empty query and leaves inactive ones out', () => {
    expect(filterAgentsForMention(agents, '').map((agent) => agent.nickname)).toEqual([
      'bob',
      'alice',
      'leo',
      'bobby',
    ]);
  });

  it('returns at most the limit', () => {
    expect(filterAgentsForMention(agents, '', 2)).toHaveLength(2);
  });
});

describe('completeMention', () => {
  it('replaces the partial nickname and adds a space', () => {
    const mention = findMentionAtCursor('@bo', 3);
    expect(mention).not.toBeNull();
    if (mention) expect(completeMention('@bo', mention, 'bobby')).toEqual({ text: '@bobby ', cursor: 7 });
  });

  it('replaces the rest of a word the cursor was in and keeps what follows', () => {
    const text = 'please @bo research x';
    const mention = findMentionAtCursor(text, 9);
    expect(mention).not.toBeNull();
    if (mention) {
      const result = completeMention(text, mention, 'bob');
      expect(result.text).toBe('please @bob research x');
      expect(result.text.slice(result.cursor)).toBe('research x');
    }
  });
});

describe('parseCommandMention', () => {
  it('reads the leading mention as the server does', () => {
    expect(parseCommandMention('@bob research quantum computing')).toBe('bob');
    expect(parseCommandMention('  @kai, plan the launch')).toBe('kai');
  });

  it('returns null when the orchestrator should pick', () => {
    expect(parseCommandMention('research quantum computing')).toBeNull();
    expect(parseCommandMention('please ask @alice and @bob')).toBeNull();
    expect(parseCommandMention('write to a@b.com')).toBeNull();
  });
});

describe('moveHighlight', () => {
  it('wraps around in both directions', () => {
    expect(moveHighlight(0, 1, 3)).toBe(1);
    expect(moveHighlight(2, 1, 3)).toBe(0);
    expect(moveHighlight(0, -1, 3)).toBe(2);
  });

  it('starts from the first or last option when none is highlighted', () => {
    expect(moveHighlight(-1, 1, 3)).toBe(0);
    expect(moveHighlight(-1, -1, 3)).toBe(2);
    expect(moveHighlight(0, 1, 0)).toBe(-1);
  });
});
