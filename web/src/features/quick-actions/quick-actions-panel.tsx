import type { Agent } from '../../lib/api-schemas.js';

export const QUICK_COMMANDS: { label: string; command: string }[] = [
  { label: 'Research a topic', command: 'Research the current state of quantum computing' },
  { label: 'Analyze costs', command: 'Analyze which kinds of tasks cost the most this month' },
  { label: 'Draft an update', command: 'Write a short status update for the team' },
  { label: 'Plan the week', command: "Plan next week's priorities from the open tasks" },
  { label: 'Compliance check', command: 'Review our data retention policy for compliance gaps' },
  { label: 'Summarize data', command: 'Summarize the key figures in last quarter’s sales data' },
];

export interface QuickActionsPanelProps {
  agents: Agent[];
  agentsError: string | null;
  sending: boolean;
  onFill: (command: string) => void;
  onSend: (command: string) => void;
  onOpenAgent: (agentId: string) => void;
}

export function QuickActionsPanel({
  agents,
  agentsError,
  sending,
  onFill,
  onSend,
  onOpenAgent,
}: QuickActionsPanelProps) {
  return (
    <div className="quick-actions">
      <section aria-labelledby="quick-commands-title">
        <h2 id="quick-commands-title" className="panel-title">
          Ready-made commands
        </h2>
        <ul className="quick-list">
          {QUICK_COMMANDS.map((item) => (
            <li key={item.label} className="quick-item" data-testid="quick-action">
              <button
                type="button"
                className="quick-fill"
                onClick={() => onFill(item.command)}
                title="Put it in the command box"
              >
                <span className="quick-label">{item.label}</span>
                <span className="quick-command">{item.command}</span>
                <span className="visually-hidden"> (put it in the command box)</span>
              </button>
              <button
                type="button"
                className="button button-small"
                onClick={() => onSend(item.command)}
                disabled={sending}
                aria-label={`Send "${item.command}" now`}
                data-testid="quick-action-send"
              >
                Send
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="roster-title">
        <h2 id="roster-title" className="panel-title">
          Team
        </h2>
        {agentsError && (
          <p className="notice notice-error" role="alert">
            {agentsError}
          </p>
        )}
        <ul className="roster">
          {agents.map((agent) => (
            <li
              key={agent.agent_id}
              className="roster-item"
              data-testid="roster-agent"
              data-agent={agent.agent_id}
            >
              <div className="roster-head">
                <button type="button" className="agent-link" onClick={() => onOpenAgent(agent.agent_id)}>
                  {agent.display_name || agent.nickname}
                </button>
                <span className="roster-nick">@{agent.nickname}</span>
                <span
                  className={`agent-status ${agent.running_tasks > 0 ? 'is-running' : 'is-idle'}`}
                  data-testid="agent-status"
                >
                  {!agent.active
                    ? 'inactive'
                    : agent.running_tasks > 0
                      ? `running ${agent.running_tasks}`
                      : 'idle'}
                </span>
              </div>
              <p className="roster-role">
                {agent.role}
                {agent.is_orchestrator && ' · orchestrator'}
                {agent.is_reviewer && ' · reviewer'}
                {agent.simulated && <span className="chip chip-sim">simulated</span>}
              </p>
              {agent.specializations.length > 0 && (
                <ul className="tags" aria-label={`Specialties of ${agent.nickname}`}>
                  {agent.specializations.map((item) => (
                    <li key={item} className="chip">
                      {item}
                    </li>
                  ))}
                </ul>
              )}
              <button
                type="button"
                className="link-button"
                onClick={() => onFill(`@${agent.nickname} `)}
                title={`Address a command to @${agent.nickname}`}
              >
                Mention @{agent.nickname}
              </button>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
