import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureExternalAgents, slugifyAgentName } from '../../src/agents/external-agents.js';
import { DEFAULT_PROJECT_ID } from '../../src/identity/scope.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('slugifyAgentName', () => {
  it('makes an agent id of any name', () => {
    expect(slugifyAgentName('Weather Agent')).toBe('weather_agent');
    expect(slugifyAgentName('  gpt-4o (2024-08-06) ')).toBe('gpt_4o_2024_08_06');
    expect(slugifyAgentName('42')).toBe('agent_42');
    expect(slugifyAgentName('Æ!!')).toBe('agent');
    expect(slugifyAgentName('x'.repeat(80))).toHaveLength(40);
  });
});

describe('ensureExternalAgents', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it("keeps a name that is already an agent's id or nickname as that agent", async () => {
    const ids = await ensureExternalAgents(database.db, DEFAULT_PROJECT_ID, ['bob', 'Maya']);
    expect(Object.fromEntries(ids)).toEqual({ bob: 'agent_a', Maya: 'agent_e' });
    const external = await database.db
      .selectFrom('agents')
      .select('agent_id')
      .where('origin', '=', 'external')
      .execute();
    expect(external).toEqual([]);
  });

  it('registers each new name once, as an external agent, even when requests race', async () => {
    const names = ['Weather Agent', 'weather-agent', 'Planner v2'];
    const results = await Promise.all(
      Array.from({ length: 6 }, () => ensureExternalAgents(database.db, DEFAULT_PROJECT_ID, names)),
    );
    for (const result of results) expect(result).toEqual(results[0]);
    const rows = await database.db
      .selectFrom('agents')
      .select(['agent_id', 'nickname', 'external_name', 'origin', 'display_name'])
      .where('origin', '=', 'external')
      .orderBy('agent_id')
      .execute();
    expect(rows).toEqual([
      {
        agent_id: 'planner_v2',
        nickname: 'planner_v2',
        external_name: 'Planner v2',
        origin: 'external',
        display_name: 'Planner v2',
      },
      {
        agent_id: 'weather_agent',
        nickname: 'weather_agent',
        external_name: 'Weather Agent',
        origin: 'external',
        display_name: 'Weather Agent',
      },
      {
        agent_id: 'weather_agent_2',
        nickname: 'weather_agent_2',
        external_name: 'weather-agent',
        origin: 'external',
        display_name: 'weather-agent',
      },
    ]);
  });
});
