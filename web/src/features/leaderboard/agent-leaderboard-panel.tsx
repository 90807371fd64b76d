import { useQuery } from '@tanstack/react-query';
import { Fragment, useId, useMemo, useState } from 'react';
import { InfoTip } from '../../components/info-tip.js';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type { ArenaRating, Ranking } from '../../lib/api-schemas.js';
import {
  describeUnpriced,
  formatCost,
  formatDateTime,
  formatRating,
  formatScore,
  formatShare,
} from '../../lib/format.js';
import type { CategoryOption } from '../categories/api/get-categories.js';
import { arenaRatingsQuery } from './api/get-arena-ratings.js';
import { leaderboardQuery } from './api/get-leaderboard.js';
import {
  defaultDirection,
  describeRank,
  type SortDirection,
  type SortKey,
  sortRankings,
} from './leaderboard-view.js';
import { ReviewerAgreementSection } from './reviewer-agreement.js';

export interface AgentLeaderboardPanelProps {
  categories: CategoryOption[];
  onOpenAgent: (agentId: string) => void;
}

const RANK_RULE =
  'Rank = 1 + the number of agents whose whole score interval lies above this one. Agents whose intervals overlap cannot be told apart yet, so they share a rank ("tied").';

function ScoreCell({ ranking }: { ranking: Ranking }) {
  const {
    avg_overall_score: score,
    score_estimate: estimate,
    score_lower: lower,
    score_upper: upper,
  } = ranking;
  const hasInterval = typeof lower === 'number' && typeof upper === 'number';
  const intervalText = hasInterval ? `likely ${formatScore(lower)}–${formatScore(upper)}` : null;
  return (
    <span className="score-cell">
      <span className="score-value">{formatScore(score)}</span>
      {hasInterval && (
        <>
          <span
            className="interval"
            role="img"
            aria-label={`Score likely between ${formatScore(lower)} and ${formatScore(upper)} out of 100`}
            title={`Score likely between ${formatScore(lower)} and ${formatScore(upper)} out of 100`}
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
          <span className="interval-label" aria-hidden="true" data-testid="score-interval-label">
            {intervalText}
          </span>
        </>
      )}
      {ranking.not_evaluated_tasks > 0 && (
        <span
          className="muted small not-evaluated"
          title="Completed tasks without a rating, judge or peer score yet: left out of the average"
          data-testid="not-evaluated"
        >
          {`${ranking.not_evaluated_tasks} not evaluated`}
        </span>
      )}
    </span>
  );
}

const COLUMNS: { key: SortKey; label: string; title?: string }[] = [
  { key: 'rank', label: 'Rank' },
  { key: 'agent', label: 'Agent' },
  {
    key: 'score',
    label: 'Score',
    title: 'Average overall score, 0–100, with the interval it likely lies in',
  },
  { key: 'success', label: 'Success', title: 'Share of finished tasks that completed without failing' },
  { key: 'rating', label: 'Rating', title: 'Average of your 1–5 star ratings' },
  { key: 'reward', label: 'Reward', title: 'Reward points earned under the reward rules' },
  { key: 'cost', label: 'Cost/task', title: 'Average cost of one priced task' },
  { key: 'tasks', label: 'Tasks', title: 'Finished tasks' },
];

const ARENA_TITLE =
  'Arena rating from head-to-head comparisons (Bradley–Terry on an Elo-like scale; 1000 is the average contestant)';

function ArenaCell({ rating }: { rating: ArenaRating | undefined }) {
  if (!rating) {
    return (
      <td className="col-arena" data-testid="leaderboard-arena">
        <span aria-hidden="true">–</span>
        <span className="visually-hidden">No Arena battles</span>
      </td>
    );
  }
  const range =
    rating.lower !== null && rating.upper !== null
      ? `, likely ${Math.round(rating.lower)}–${Math.round(rating.upper)}`
      : '';
  const battles = `${rating.battles} battle${rating.battles === 1 ? '' : 's'}`;
  return (
    <td
      className="col-arena"
      data-testid="leaderboard-arena"
      data-rating={Math.round(rating.rating)}
      title={`Arena rating ${Math.round(rating.rating)}${range} (${battles})`}
    >
      {Math.round(rating.rating)}
      <span className="muted small arena-battles"> · {battles}</span>
    </td>
  );
}

function CompareTable({ agents }: { agents: [Ranking, Ranking] }) {
  const rows: { label: string; value: (ranking: Ranking) => string }[] = [
    { label: 'Rank', value: (ranking) => describeRank(ranking, agents) },
    { label: 'Score (0–100)', value: (ranking) => formatScore(ranking.avg_overall_score) },
    {
      label: 'Likely score range',
      value: (ranking) =>
        ranking.score_lower === null || ranking.score_upper === null
          ? '–'
          : `${formatScore(ranking.score_lower)}–${formatScore(ranking.score_upper)}`,
    },
    { label: 'Success rate', value: (ranking) => formatShare(ranking.success_rate) },
    { label: 'Average rating', value: (ranking) => formatRating(ranking.avg_user_rating) },
    { label: 'Reward points', value: (ranking) => String(ranking.reward_points) },
    { label: 'Cost per task', value: (ranking) => formatCost(ranking.avg_cost_per_task) },
    { label: 'Finished tasks', value: (ranking) => String(ranking.total_tasks) },
    { label: 'Scored tasks', value: (ranking) => String(ranking.scored_tasks) },
  ];
  return (
    <div className="table-wrap compare" data-testid="leaderboard-compare">
      <table className="compare-table">
        <caption className="eval-caption">
          @{agents[0].nickname} and @{agents[1].nickname} side by side
        </caption>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            <th scope="col">@{agents[0].nickname}</th>
            <th scope="col">@{agents[1].nickname}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              <td>{row.value(agents[0])}</td>
              <td>{row.value(agents[1])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Agents ranked by the lower end of their score interval, filterable by category, sortable by any column. */
export function AgentLeaderboardPanel({ categories, onOpenAgent }: AgentLeaderboardPanelProps) {
  const api = useApi();
  const [category, setCategory] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; direction: SortDirection }>({
    key: 'rank',
    direction: 'ascending',
  });
  const [compared, setCompared] = useState<string[]>([]);
  const selectId = useId();

  const result = useQuery(leaderboardQuery(api, category));
  // The Arena column shows only when the project has battles (in this category).
  const arena = useQuery(arenaRatingsQuery(api, category)).data;
  const arenaRatings =
    arena && arena.total_battles > 0
      ? new Map(arena.ratings.map((rating) => [rating.agent_id, rating]))
      : null;
  const board = result.data ?? null;
  const loading = result.isFetching;
  const error = result.error ? describeError(result.error) : null;

  const rankings = board?.rankings ?? [];
  const sorted = useMemo(() => sortRankings(rankings, sort.key, sort.direction), [rankings, sort]);
  const comparedRows = compared
    .map((agentId) => rankings.find((ranking) => ranking.agent_id === agentId))
    .filter((ranking): ranking is Ranking => ranking !== undefined);

  const toggleCompare = (agentId: string) =>
    setCompared((current) =>
      current.includes(agentId)
        ? current.filter((item) => item !== agentId)
        : [...current, agentId].slice(-2),
    );

  const sortBy = (key: SortKey) =>
    setSort((current) =>
      current.key === key
        ? { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' }
        : { key, direction: defaultDirection(key) },
    );

  const categoryName = categories.find((item) => item.category === category)?.display_name ?? category;

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
          {categories.map((item) => (
            <option key={item.category} value={item.category}>
              {item.display_name}
            </option>
          ))}
        </select>
      </div>
      <p className="muted small leaderboard-legend" data-testid="rank-legend">
        Ranked by the low end of each agent's likely score range (scores 0–100).{' '}
        <InfoTip label="How ranks and ties work">{RANK_RULE}</InfoTip>
      </p>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <section
        className="table-wrap leaderboard-wrap"
        aria-busy={loading}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a table scrolled sideways in a narrow panel must be reachable by keyboard
        tabIndex={0}
        aria-label="Leaderboard table"
      >
        <table className="leaderboard-table">
          <caption className="visually-hidden">
            Agents{category ? ` in ${categoryName}` : ''}, ranked by the lower bound of their score interval;
            agents whose intervals overlap share a rank. Provisional agents have no rank yet. Column headers
            sort the table.
          </caption>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <Fragment key={column.key}>
                  <th
                    scope="col"
                    aria-sort={sort.key === column.key ? sort.direction : undefined}
                    className={`col-${column.key}`}
                  >
                    <button
                      type="button"
                      className="sort-button"
                      onClick={() => sortBy(column.key)}
                      title={column.title}
                      data-testid={`sort-${column.key}`}
                    >
                      {column.label}
                      <span aria-hidden="true" className="sort-mark">
                        {sort.key === column.key ? (sort.direction === 'ascending' ? '▲' : '▼') : ''}
                      </span>
                    </button>
                  </th>
                  {column.key === 'score' && arenaRatings !== null && (
                    <th scope="col" className="col-arena" title={ARENA_TITLE}>
                      Arena
                    </th>
                  )}
                </Fragment>
              ))}
              <th scope="col" className="col-compare">
                <span className="visually-hidden">Compare</span>
                <span aria-hidden="true" title="Tick two agents to compare them side by side">
                  ⇄
                </span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((ranking) => (
              <tr
                key={ranking.agent_id}
                data-testid="leaderboard-row"
                data-agent={ranking.agent_id}
                data-rank={ranking.rank ?? ''}
                className={ranking.rank === null ? 'provisional' : undefined}
              >
                <td className="rank" data-testid="leaderboard-rank">
                  {ranking.rank === null ? (
                    <span
                      title={`Provisional: fewer than ${board?.min_sample ?? 'enough'} scored tasks, so not ranked yet`}
                    >
                      <span aria-hidden="true">–</span>
                      <span className="visually-hidden">Unranked (provisional)</span>
                    </span>
                  ) : (
                    <span title={RANK_RULE}>{describeRank(ranking, rankings)}</span>
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
                {arenaRatings !== null && <ArenaCell rating={arenaRatings.get(ranking.agent_id)} />}
                <td data-testid="leaderboard-success">{formatShare(ranking.success_rate)}</td>
                <td>{formatRating(ranking.avg_user_rating)}</td>
                <td data-testid="leaderboard-reward">{ranking.reward_points}</td>
                <td data-testid="leaderboard-cost">
                  {formatCost(ranking.avg_cost_per_task)}
                  {ranking.unpriced_tasks > 0 && (
                    <span className="muted small" data-testid="unpriced">
                      {' '}
                      ({describeUnpriced(ranking.unpriced_tasks, ranking.total_tasks)})
                    </span>
                  )}
                </td>
                <td className="col-tasks">{ranking.total_tasks}</td>
                <td className="col-compare">
                  <input
                    type="checkbox"
                    checked={compared.includes(ranking.agent_id)}
                    onChange={() => toggleCompare(ranking.agent_id)}
                    aria-label={`Compare @${ranking.nickname}`}
                    data-testid="leaderboard-compare-toggle"
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {board && board.rankings.length === 0 && (
        <p className="muted">No agent has completed a task{category ? ` in ${categoryName}` : ''} yet.</p>
      )}
      {comparedRows.length === 1 && (
        <p className="muted small">Tick one more agent to compare it with @{comparedRows[0]?.nickname}.</p>
      )}
      {comparedRows.length === 2 && <CompareTable agents={comparedRows as [Ranking, Ranking]} />}
      {board?.last_updated && <p className="muted small">Updated {formatDateTime(board.last_updated)}</p>}
      <ReviewerAgreementSection />
    </section>
  );
}
