import { describe, expect, it } from 'vitest';
import { chooseAgentModel } from '../../src/agents/agent-runner.js';
import { describeUnknownMention, parseCommand } from '../../src/commands/commands.js';
import { loadConfig } from '../../src/config.js';

describe('parseCommand', () => {
  it('splits a leading @nickname from the command text, case-insensitively', () => {
    expect(parseCommand('@Bob research quantum computing')).toEqual({
      mention: 'bob',
      text: 'research quantum computing',
    });
  });

  it('accepts punctuation after the mention and surrounding spaces', () => {
    expect(parseCommand('  @sue, check the contract ')).toEqual({
      mention: 'sue',
      text: 'check the contract',
    });
    expect(parseCommand('@rex: sum the sales')).toEqual({ mention: 'rex', text: 'sum the sales' });
  });

  it('finds no mention when the command does not start with one', () => {
    expect(parseCommand('ask @rex about sales')).toEqual({ mention: null, text: 'ask @rex about sales' });
    expect(parseCommand('email me@example.com')).toEqual({ mention: null, text: 'email me@example.com' });
  });

  it('does not take a possessive for a mention', () => {
    expect(parseCommand("@bob's notes need a summary").mention).toBeNull();
  });

  it('leaves an empty text for a bare mention', () => {
    expect(parseCommand('@kai')).toEqual({ mention: 'kai', text: '' });
  });
});

describe('describeUnknownMention', () => {
  it('lists the known nicknames in order', () => {
    expect(describeUnknownMention('zed', ['sue', 'bob'])).toBe(
      'no agent is called @zed; known agents: @bob, @sue',
    );
  });
});

describe('chooseAgentModel', () => {
  const llm = loadConfig({
    MERIT_LLM_PROVIDER: 'openai',
    MERIT_LLM_MODEL: 'gpt-4o-mini',
    MERIT_AGENT_MODELS: 'bob=gpt-4o',
  }).llm;

  it("prefers the agent's configured model, then its stored model, then the default", () => {
    expect(chooseAgentModel(llm, { nickname: 'bob', model: 'gpt-4.1' })).toBe('gpt-4o');
    expect(chooseAgentModel(llm, { nickname: 'sue', model: 'gpt-4.1' })).toBe('gpt-4.1');
    expect(chooseAgentModel(llm, { nickname: 'sue', model: null })).toBe('gpt-4o-mini');
  });

  it('is the simulated model without an LLM', () => {
    expect(chooseAgentModel(undefined, { nickname: 'bob', model: 'gpt-4o' })).toBe('simulated');
  });
});
