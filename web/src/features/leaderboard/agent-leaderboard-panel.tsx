import { useEffect, useId, useState } from 'react';
import { CATEGORIES, type Leaderboard, type Ranking } from '../../lib/api-types.js';
import { describeUnpriced, formatCost, formatDateTime, formatRating, formatScore } from '../../lib/format.js';
import { usePerformance } from '../../lib/use-performance.js';
import { ReviewerAgreementSection } from './reviewer-agreement.js';

export interface AgentLeaderboardPanelProps {
  /** Changes whenever the leaderboard may have changed (an SSE event or a completed task). */
  refreshKey: number;
  onOpenAgent: (agentId: string) => void;
}

function ScoreCell({ ranking }: { ranking: Ranking }) {
  const {
    avg_overall_score: score,
    score_estimate: estimate,
    score_lower: lower,
    score_upper: upper,
  } = ranking;
  const hasInterval = typeof lower === 'number' && typeof upper === 'number';
  return (
    <span className="score-cell">
      <span className="score-value">{formatScore(score)}</span>
      {hasInterval && (
        <span
          className="interval"
          role="img"
          aria-label={`Likely between ${formatScore(lower)} and ${formatScore(upper)}`}
          title={`Likely between ${formatScore(lower)} and ${formatScore(upper)}`}
          data-testid="score-interval"
        >
          <span
            className="interval-range"
            style={{
              left: `${Math.max(0, lower) * 100}%`,
              width: `${Math.max(0, Math.min(1, upper) - Math.max(0, lower)) * 100}%`,
            }}
          />
          {/* The interval's own estimate: the plain average can lie outside it when tasks are few. */}
          {estimate !== null && <span className="interval-point" style={{ left: `${estimate * 100}%` }} />}
        </span>
      )}
      {ranking.not_evaluated_tasks > 0 && (
        <span
          className="muted small"
          title="Completed tasks without a rating, judge or peer score yet: left out of the average"
          data-testid="not-evaluated"
        >
          {` ${ranking.not_evaluated_tasks} not evaluated`}
        </span>
      )}
    </span>
  );
}

/** Agents ranked by score, filterable by category. */
export function AgentLeaderboardPanel({ refreshKey, onOpenAgent }: AgentLeaderboardPanelProps) {
  const { fetchLeaderboard, loading, error } = usePerformance();
  const [category, setCategory] = useState('');
  const [board, setBoard] = useState<Leaderboard | null>(null);
  const selectId = useId();

  // refreshKey is a dependency on purpose: a change means "fetch again".
  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey only triggers the refetch
  useEffect(() => {
    let current = true;
    fetchLeaderboard(category || undefined).then(
      (result) => {
        if (current) setBoard(result);
      },
      () => {
        // The hook's error state carries the message.
      },
    );
    return () => {
      current = false;
    };
  }, [category, refreshKey, fetchLeaderboard]);

  return (
    <section className="leaderboard" aria-labelledby={`${selectId}-title`} data-testid="leaderboard">
      <div className="panel-row">
        <h2 id={`${selectId}-title`} className="panel-title">
          Leaderboard
        </h2>
        <label htmlFor={selectId} className="visually-hidden">
          Category
        </label>
        <select
          id={selectId}
          value={category}
          onChange={(event) => setCategory(event.target.value)}
          data-testid="leaderboard-category"
        >
          <option value="">All categories</option>
          {CATEGORIES.map((item) => (
            <option key={item} value={item}>
              {item[0]?.toUpperCase()}
              {item.slice(1)}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <div className="table-wrap" aria-busy={loading}>
        <table className="leaderboard-table">
          <caption className="visually-hidden">
            Agents ranked by average score{category ? ` in ${category}` : ''}. Provisional agents have no rank
            yet.
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Agent</th>
              <th scope="col">Score</th>
              <th scope="col">Rating</th>
              <th scope="col">Tasks</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {board?.rankings.map((ranking) => (
              <tr
                key={ranking.agent_id}
                data-testid="leaderboard-row"
                data-agent={ranking.agent_id}
                data-rank={ranking.rank ?? ''}
                className={ranking.rank === null ? 'provisional' : undefined}
              >
                <td className="rank">
                  {ranking.rank === null ? (
                    <span title="Provisional: not enough rated tasks to rank yet">
                      <span aria-hidden="true">–</span>
                      <span className="visually-hidden">Unranked</span>
                    </span>
                  ) : (
                    ranking.rank
                  )}
                </td>
                <th scope="row">
                  <button type="button" className="agent-link" onClick={() => onOpenAgent(ranking.agent_id)}>
                    @{ranking.nickname}
                  </button>
                </th>
                <td>
                  <ScoreCell ranking={ranking} />
                </td>
                <td>{formatRating(ranking.avg_user_rating)}</td>
                <td>{ranking.total_tasks}</td>
                <td>
                  {formatCost(ranking.total_cost)}
                  {ranking.unpriced_tasks > 0 && (
                    <span className="muted small" data-testid="unpriced">
                      {' '}
                      ({describeUnpriced(ranking.unpriced_tasks, ranking.total_tasks)})
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {board && board.rankings.length === 0 && (
        <p className="muted">No agent has completed a task{category ? ` in ${category}` : ''} yet.</p>
      )}
      {board?.last_updated && <p className="muted small">Updated {formatDateTime(board.last_updated)}</p>}
      <ReviewerAgreementSection refreshKey={refreshKey} />
    </section>
  );
}
