import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { inEveryScope } from '../../lib/query-keys.js';
import { type AgentRow, agentPatchFieldsQuery, agentsQuery } from './api/admin-queries.js';
import { describeRequestError, requestJson } from './api/request.js';
import { ScrollRegion } from './scroll-region.js';
import type { TabContext } from './tab-context.js';

/**
 * Merit's agents and the external ones ingestion found. An admin can switch an agent on or off when the
 * server offers PATCH /api/agents/{agent_id} with an `active` field; otherwise the list is read-only.
 */
export function AgentsTab({ connection, csrfToken, canAdmin }: TabContext) {
  const agents = useQuery(agentsQuery(connection));
  const patchFields = useQuery({ ...agentPatchFieldsQuery(connection), enabled: canAdmin });
  const canToggle = canAdmin && (patchFields.data ?? []).includes('active');
  const client = useQueryClient();
  const toggle = useMutation({
    mutationFn: (agent: AgentRow) =>
      requestJson<unknown>(connection, 'PATCH', `/agents/${encodeURIComponent(agent.agent_id)}`, {
        body: { active: !agent.active },
        csrfToken,
      }),
    // The shell's roster, mention list and filters list the agents too.
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: agentsQuery(connection).queryKey }),
        client.invalidateQueries(inEveryScope('agents')),
      ]),
  });

  if (agents.isPending)
    return (
      <p className="muted" role="status">
        Loading agents…
      </p>
    );
  if (agents.isError)
    return (
      <div className="notice notice-error" role="alert">
        {describeRequestError(agents.error)}
      </div>
    );
  return (
    <>
      {toggle.isError && (
        <div className="notice notice-error" role="alert">
          {describeRequestError(toggle.error)}
        </div>
      )}
      <ScrollRegion label="Agents of this project">
        <table className="keys-table" data-testid="agents-table">
          <caption className="visually-hidden">Agents of this project</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Origin</th>
              <th scope="col">Role</th>
              <th scope="col">Model</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {agents.data.agents.map((agent) => (
              <tr key={agent.agent_id} data-testid={`agent-${agent.agent_id}`}>
                <th scope="row">
                  {agent.display_name}
                  <div className="muted small">
                    @{agent.nickname} · {agent.agent_id}
                  </div>
                </th>
                <td>
                  {agent.origin === undefined
                    ? '—'
                    : agent.origin === 'external'
                      ? `external${agent.external_name ? ` (${agent.external_name})` : ''}`
                      : agent.simulated
                        ? 'Merit (simulated)'
                        : 'Merit'}
                </td>
                <td>
                  {agent.role}
                  {agent.is_reviewer ? ' · reviewer' : ''}
                </td>
                <td>{agent.model ?? <span className="muted">not set</span>}</td>
                <td>
                  {agent.active ? 'active' : 'inactive'}
                  {canToggle && (
                    <>
                      {' '}
                      <button
                        type="button"
                        className="button button-small"
                        disabled={toggle.isPending}
                        onClick={() => toggle.mutate(agent)}
                      >
                        {agent.active ? 'Deactivate' : 'Activate'}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      {canAdmin && !canToggle && patchFields.isSuccess && (
        <p className="muted small" data-testid="agents-read-only">
          This server cannot change agents yet: the list is read-only.
        </p>
      )}
    </>
  );
}
