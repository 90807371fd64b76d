import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';

/** The longest slug made of an external name, leaving room for a `_<n>` suffix within VARCHAR(50). */
const SLUG_MAX = 40;

/**
 * The agent id (and nickname) Merit gives an external agent's name: lower case, runs of anything but
 * letters and digits become one `_`, starting with a letter (`agent_` is put in front otherwise).
 * `"Weather Agent"` -> `weather_agent`; `"42"` -> `agent_42`.
 */
export function slugifyAgentName(name: string): string {
  const words = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const slug = /^[a-z]/.test(words) ? words : `agent_${words}`.replace(/_+$/, '');
  return slug.slice(0, SLUG_MAX).replace(/_+$/, '');
}

/**
 * The agent id for each name an outside source (OpenTelemetry spans, Arena battles) gave an agent,
 * registering the unknown ones in the project as external agents. A name that is already an agent's id
 * or nickname in the project is that agent (a team's own `bob` reporting spans stays `bob`). Safe under
 * concurrency: two requests naming the same new agent get the same row.
 */
export async function ensureExternalAgents(
  db: Kysely<Database>,
  projectId: string,
  names: readonly string[],
): Promise<Map<string, string>> {
  const wanted = [...new Set(names.map((name) => name.trim()).filter((name) => name.length > 0))];
  const ids = new Map<string, string>();
  if (wanted.length === 0) return ids;
  const known = await db
    .selectFrom('agents')
    .select(['agent_id', 'nickname', 'external_name'])
    .where('project_id', '=', projectId)
    .where((eb) =>
      eb.or([
        eb('external_name', 'in', wanted),
        eb(
          'agent_id',
          'in',
          wanted.map((name) => name.toLowerCase()),
        ),
        eb(
          'nickname',
          'in',
          wanted.map((name) => name.toLowerCase()),
        ),
      ]),
    )
    .execute();
  for (const name of wanted) {
    const lower = name.toLowerCase();
    const row =
      known.find((agent) => agent.external_name === name) ??
      known.find((agent) => agent.agent_id === lower || agent.nickname === lower);
    if (row) ids.set(name, row.agent_id);
  }
  for (const name of wanted) {
    if (!ids.has(name)) ids.set(name, await insertExternalAgent(db, projectId, name));
  }
  return ids;
}

async function insertExternalAgent(db: Kysely<Database>, projectId: string, name: string): Promise<string> {
  const slug = slugifyAgentName(name);
  for (let attempt = 1; attempt <= 100; attempt += 1) {
    const agentId = attempt === 1 ? slug : `${slug}_${attempt}`;
    // DO NOTHING on any unique key: another request registered this name, or the slug is taken.
    await db
      .insertInto('agents')
      .values({
        project_id: projectId,
        agent_id: agentId,
        nickname: agentId,
        display_name: name.slice(0, 200),
        role: 'External agent',
        origin: 'external',
        external_name: name,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await db
      .selectFrom('agents')
      .select('agent_id')
      .where('project_id', '=', projectId)
      .where('external_name', '=', name)
      .executeTakeFirst();
    if (row) return row.agent_id;
  }
  throw new Error(`no free agent id for the external agent ${JSON.stringify(name)}`, {
    cause: { projectId, slug },
  });
}
