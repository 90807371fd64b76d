import { type FormEvent, type ReactNode, useCallback, useEffect, useId, useMemo, useState } from 'react';
import { MarkdownView } from '../../components/markdown-view.js';
import { Spinner } from '../../components/spinner.js';
import {
  type AgentChoice,
  type ArenaConnection,
  type ArenaVote,
  type Comparison,
  type ComparisonAnswer,
  createComparison,
  describeArenaError,
  fetchComparableAgents,
  fetchComparison,
  voteOnComparison,
} from './api/arena-api.js';
import { ArenaLeaderboardPanel } from './arena-leaderboard.js';
import './arena.css';

export interface ArenaPageProps {
  connection: ArenaConnection;
  /** False for a read-only role: the leaderboard only (comparing and voting need ingest and feedback). */
  canCompare?: boolean;
  onBack?: () => void;
}

/** How often a comparison whose answers are still coming is asked again. */
const POLL_MS = 1500;

const VOTES: { vote: ArenaVote; label: string }[] = [
  { vote: 'A', label: 'A is better' },
  { vote: 'B', label: 'B is better' },
  { vote: 'tie', label: 'Tie' },
  { vote: 'bothbad', label: 'Both are bad' },
];

/**
 * The Arena: send one command to two agents, read the answers side by side as A and B without knowing
 * who wrote which, vote, and only then see the names; below, the Arena leaderboard (Bradley-Terry
 * ratings with 95% intervals and the win-rate matrix).
 */
export function ArenaPage({ connection: given, canCompare = true, onBack }: ArenaPageProps) {
  const { userId, project, csrfToken } = given;
  // One object while the caller's values stay the same: effects below depend on it.
  const connection = useMemo(() => ({ userId, project, csrfToken }), [userId, project, csrfToken]);
  const [comparisonId, setComparisonId] = useState<string | null>(null);
  const [leaderboardVersion, setLeaderboardVersion] = useState(0);
  return (
    <section className="arena-page" aria-labelledby="arena-title" data-testid="arena-page">
      <div className="arena-head">
        {onBack && (
          <button type="button" className="link-button" onClick={onBack} data-testid="arena-back">
            ← Back to the conversation
          </button>
        )}
        <h2 id="arena-title" className="arena-title">
          Arena
        </h2>
        <p className="muted small">
          One command, two agents, a blind vote: head-to-head battles rate agents on one scale.
        </p>
      </div>
      {canCompare && (
        <CompareForm
          connection={connection}
          onCreated={(comparison) => {
            setComparisonId(comparison.id);
          }}
        />
      )}
      {comparisonId && (
        <ComparisonPanel
          key={comparisonId}
          connection={connection}
          comparisonId={comparisonId}
          onVoted={() => setLeaderboardVersion((version) => version + 1)}
        />
      )}
      <ArenaLeaderboardPanel connection={connection} version={leaderboardVersion} />
    </section>
  );
}

function CompareForm({
  connection,
  onCreated,
}: {
  connection: ArenaConnection;
  onCreated: (comparison: Comparison) => void;
}) {
  const id = useId();
  const [agents, setAgents] = useState<AgentChoice[]>([]);
  const [command, setCommand] = useState('');
  const [first, setFirst] = useState('');
  const [second, setSecond] = useState('');
  const [llmJudge, setLlmJudge] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    fetchComparableAgents(connection, controller.signal).then(setAgents, (failure: unknown) => {
      if (!controller.signal.aborted) setError(describeArenaError(failure));
    });
    return () => controller.abort();
  }, [connection]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (command.trim() === '') {
      setError('Write a command for the two agents.');
      return;
    }
    if ((first === '') !== (second === '')) {
      setError('Choose both agents, or neither to let the router draw them.');
      return;
    }
    if (first !== '' && first === second) {
      setError('Choose two different agents.');
      return;
    }
    setSending(true);
    setError(null);
    try {
      const comparison = await createComparison(connection, {
        command: command.trim(),
        ...(first && second ? { agents: [first, second] as [string, string] } : {}),
        ...(llmJudge ? { llm_judge: true } : {}),
      });
      onCreated(comparison);
      setCommand('');
    } catch (failure) {
      setError(describeArenaError(failure));
    } finally {
      setSending(false);
    }
  };

  const agentSelect = (label: string, value: string, onChange: (value: string) => void, testId: string) => (
    <label className="arena-field">
      <span>{label}</span>
      <select value={value} onChange={(event) => onChange(event.target.value)} data-testid={testId}>
        <option value="">Drawn by the router</option>
        {agents.map((agent) => (
          <option key={agent.agent_id} value={agent.agent_id}>
            @{agent.nickname} · {agent.display_name}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <form className="arena-compare" onSubmit={(event) => void submit(event)} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="panel-title">
        Compare
      </h3>
      <label className="arena-field arena-command">
        <span>Command</span>
        <textarea
          value={command}
          onChange={(event) => setCommand(event.target.value)}
          rows={3}
          maxLength={20_000}
          placeholder="e.g. summarize the trade-offs of event sourcing in five bullets"
          data-testid="arena-command"
        />
      </label>
      <div className="arena-agents">
        {agentSelect('First agent', first, setFirst, 'arena-agent-1')}
        {agentSelect('Second agent', second, setSecond, 'arena-agent-2')}
      </div>
      <label className="arena-check">
        <input type="checkbox" checked={llmJudge} onChange={(event) => setLlmJudge(event.target.checked)} />
        <span>Also ask the LLM judge (both orders; a disagreement counts as a tie)</span>
      </label>
      {error && (
        <p className="notice notice-error" role="alert" data-testid="arena-error">
          {error}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={sending} data-testid="arena-compare">
        {sending ? 'Sending…' : 'Compare'}
      </button>
    </form>
  );
}

function ComparisonPanel({
  connection,
  comparisonId,
  onVoted,
}: {
  connection: ArenaConnection;
  comparisonId: string;
  onVoted: () => void;
}) {
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [voting, setVoting] = useState(false);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setComparison(await fetchComparison(connection, comparisonId, signal));
        setError(null);
      } catch (failure) {
        if (!signal?.aborted) setError(describeArenaError(failure));
      }
    },
    [connection, comparisonId],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const answering = comparison === null || comparison.status === 'answering';
  useEffect(() => {
    if (!answering) return;
    const controller = new AbortController();
    const timer = window.setInterval(() => void load(controller.signal), POLL_MS);
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
  }, [answering, load]);

  const vote = async (winner: ArenaVote) => {
    setVoting(true);
    try {
      setComparison(await voteOnComparison(connection, comparisonId, winner));
      setError(null);
      onVoted();
    } catch (failure) {
      setError(describeArenaError(failure));
    } finally {
      setVoting(false);
    }
  };

  if (comparison === null) {
    return (
      <p className="muted" role="status">
        {error ?? (
          <>
            <Spinner /> Sending the command to two agents…
          </>
        )}
      </p>
    );
  }
  const judge = comparison.battles.find((battle) => battle.source === 'llm_judge');
  return (
    <section className="arena-battle" aria-label="Blind comparison" data-testid="arena-battle">
      <p className="arena-battle-command">
        <span className="muted">Command:</span> {comparison.command}
        {comparison.category && <span className="arena-category">{comparison.category}</span>}
      </p>
      <div className="arena-answers">
        <AnswerColumn label="A" answer={comparison.answers.A} agent={comparison.agents?.A ?? null} />
        <AnswerColumn label="B" answer={comparison.answers.B} agent={comparison.agents?.B ?? null} />
      </div>
      {comparison.status === 'voted' ? (
        <p className="arena-verdict" role="status" data-testid="arena-verdict">
          You voted <strong>{describeVote(comparison.vote)}</strong>. A was{' '}
          <strong>@{comparison.agents?.A.nickname}</strong>, B was{' '}
          <strong>@{comparison.agents?.B.nickname}</strong>.
          {judge && (
            <span className="arena-judge">
              {' '}
              The {judge.judge === 'heuristic' ? 'offline heuristic comparison' : 'LLM judge'} said{' '}
              {describeWinner(judge.winner)}.
            </span>
          )}
        </p>
      ) : (
        <fieldset className="arena-votes">
          <legend className="muted small">Your vote</legend>
          {VOTES.map((option) => (
            <button
              key={option.vote}
              type="button"
              className="button"
              disabled={comparison.status !== 'ready' || voting}
              onClick={() => void vote(option.vote)}
              data-testid={`arena-vote-${option.vote}`}
            >
              {option.label}
            </button>
          ))}
          {comparison.status === 'answering' && (
            <span className="muted small" role="status">
              <Spinner /> Waiting for both answers…
            </span>
          )}
        </fieldset>
      )}
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function AnswerColumn({
  label,
  answer,
  agent,
}: {
  label: 'A' | 'B';
  answer: ComparisonAnswer;
  agent: { nickname: string; display_name: string } | null;
}) {
  let body: ReactNode;
  if (answer.status === 'completed' && answer.result !== null) body = <MarkdownView source={answer.result} />;
  else if (answer.status === 'failed')
    body = <p className="notice notice-error">The agent failed: {answer.error ?? 'no reason given'}</p>;
  else
    body = (
      <p className="muted">
        <Spinner /> {answer.status === 'running' ? 'Answering…' : 'Queued…'}
      </p>
    );
  return (
    <article className="arena-answer" aria-label={`Answer ${label}`} data-testid={`arena-answer-${label}`}>
      <h4 className="arena-answer-title">
        Answer {label}
        {agent && (
          <span className="arena-revealed" data-testid={`arena-revealed-${label}`}>
            @{agent.nickname} · {agent.display_name}
          </span>
        )}
      </h4>
      <div className="arena-answer-body">{body}</div>
    </article>
  );
}

function describeVote(vote: ArenaVote | null): string {
  if (vote === 'A') return 'A is better';
  if (vote === 'B') return 'B is better';
  if (vote === 'tie') return 'a tie';
  return 'both are bad';
}

function describeWinner(winner: string): string {
  if (winner === 'model_a') return 'A is better';
  if (winner === 'model_b') return 'B is better';
  return winner === 'tie' ? 'a tie' : 'both are bad';
}
