import { type KeyboardEvent, type RefObject, useId, useLayoutEffect, useRef, useState } from 'react';
import type { Agent } from '../../lib/api-schemas.js';
import {
  completeMention,
  filterAgentsForMention,
  findMentionAtCursor,
  moveHighlight,
  parseCommandMention,
} from '../../lib/mentions.js';

export interface CommandBoxProps {
  value: string;
  onChange: (value: string) => void;
  agents: Agent[];
  submitting: boolean;
  error: string | null;
  /** Sends the command; resolves true when the server accepted it. */
  onSubmit: (command: string) => Promise<boolean>;
  inputRef: RefObject<HTMLTextAreaElement | null>;
}

function describeTarget(command: string, agents: Agent[]): string {
  const nickname = parseCommandMention(command);
  if (nickname === null) return 'No @mention: the orchestrator picks the best agent.';
  const agent = agents.find((candidate) => candidate.nickname.toLowerCase() === nickname.toLowerCase());
  return agent ? `To @${agent.nickname} · ${agent.role}` : `To @${nickname}`;
}

/** The command input with `@nickname` autocomplete (an ARIA combobox over a listbox of agents). */
export function CommandBox({
  value,
  onChange,
  agents,
  submitting,
  error,
  onSubmit,
  inputRef,
}: CommandBoxProps) {
  const [cursor, setCursor] = useState(0);
  const [highlight, setHighlight] = useState(0);
  const [closedAt, setClosedAt] = useState<string | null>(null);
  const pendingCursor = useRef<number | null>(null);
  const baseId = useId();
  const listId = `${baseId}-agents`;
  const errorId = `${baseId}-error`;
  const hintId = `${baseId}-hint`;

  const mention = findMentionAtCursor(value, cursor);
  const options = mention ? filterAgentsForMention(agents, mention.query) : [];
  // Escape closes the list until the text changes again.
  const open = options.length > 0 && closedAt !== value;
  const active = open ? Math.min(Math.max(highlight, 0), options.length - 1) : -1;

  useLayoutEffect(() => {
    if (pendingCursor.current === null || !inputRef.current) return;
    inputRef.current.setSelectionRange(pendingCursor.current, pendingCursor.current);
    setCursor(pendingCursor.current);
    pendingCursor.current = null;
  });

  const updateCursor = () => setCursor(inputRef.current?.selectionStart ?? value.length);

  const pick = (agent: Agent) => {
    if (!mention) return;
    const next = completeMention(value, mention, agent.nickname);
    pendingCursor.current = next.cursor;
    setHighlight(0);
    onChange(next.text);
    inputRef.current?.focus();
  };

  const submit = async () => {
    const command = value.trim();
    if (command === '' || submitting) return;
    await onSubmit(command);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (open) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        setHighlight(moveHighlight(active, event.key === 'ArrowDown' ? 1 : -1, options.length));
        return;
      }
      if ((event.key === 'Enter' && !event.shiftKey) || event.key === 'Tab') {
        const agent = options[active];
        if (agent) {
          event.preventDefault();
          pick(agent);
          return;
        }
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setClosedAt(value);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form
      className="command-box"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
      aria-label="Send a command"
    >
      <label htmlFor={`${baseId}-input`} className="visually-hidden">
        Command
      </label>
      <div className="command-field">
        <textarea
          id={`${baseId}-input`}
          ref={inputRef}
          value={value}
          rows={2}
          placeholder="Type a command, e.g. @bob research quantum computing"
          role="combobox"
          aria-expanded={open}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
          aria-describedby={error ? `${errorId} ${hintId}` : hintId}
          aria-invalid={error ? true : undefined}
          onChange={(event) => {
            onChange(event.target.value);
            setCursor(event.target.selectionStart ?? event.target.value.length);
            setHighlight(0);
          }}
          onKeyDown={onKeyDown}
          onKeyUp={(event) => {
            if (event.key.startsWith('Arrow') && !open) updateCursor();
            if (event.key === 'Home' || event.key === 'End') updateCursor();
          }}
          onClick={updateCursor}
          onBlur={() => setClosedAt(value)}
          onFocus={() => setClosedAt(null)}
          data-testid="command-input"
        />
        <div
          id={listId}
          role="listbox"
          aria-label="Agents"
          className="mention-list"
          hidden={!open}
          data-testid="mention-list"
        >
          {open &&
            options.map((agent, index) => (
              // Options stay unfocusable: focus remains in the textarea, which points at them with aria-activedescendant.
              // biome-ignore lint/a11y/useFocusableInteractive: combobox pattern (focus stays on the input)
              // biome-ignore lint/a11y/useKeyWithClickEvents: the textarea handles the keys for the list
              <div
                key={agent.agent_id}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === active}
                className={index === active ? 'mention-option active' : 'mention-option'}
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => pick(agent)}
                data-testid="mention-option"
                data-agent={agent.agent_id}
              >
                <span className="mention-nick">@{agent.nickname}</span>
                <span className="mention-role">{agent.role}</span>
                {agent.running_tasks > 0 && (
                  <span className="mention-busy">running {agent.running_tasks}</span>
                )}
              </div>
            ))}
        </div>
        <button
          type="submit"
          className="button button-primary"
          disabled={submitting || value.trim() === ''}
          data-testid="command-submit"
        >
          {submitting ? 'Sending…' : 'Send'}
        </button>
      </div>
      <p id={hintId} className="command-hint">
        {describeTarget(value, agents)}{' '}
        <span className="kbd-hint">Enter to send · Shift+Enter for a new line</span>
      </p>
      {error && (
        <p id={errorId} className="command-error" role="alert" data-testid="command-error">
          {error}
        </p>
      )}
    </form>
  );
}
