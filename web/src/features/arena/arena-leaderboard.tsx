import { useEffect, useState } from 'react';
import { Spinner } from '../../components/spinner.js';
import {
  type ArenaConnection,
  type ArenaLeaderboard,
  describeArenaError,
  fetchArenaLeaderboard,
} from './api/arena-api.js';

/** Where an interval bar starts and ends, in percent of the scale shown (all intervals, 20 points of margin). */
export function intervalScale(
  ratings: readonly { lower: number | null; upper: number | null; rating: number }[],
) {
  const values = ratings.flatMap((rating) => [rating.lower ?? rating.rating, rating.upper ?? rating.rating]);
  const min = Math.min(...values) - 20;
  const max = Math.max(...values) + 20;
  const span = Math.max(max - min, 1);
  return (value: number) => ((value - min) / span) * 100;
}

const formatRating = (value: number | null) => (value === null ? '—' : value.toFixed(0));

/**
 * The Arena leaderboard: rank (from the intervals), rating with its 95% bootstrap interval drawn as a bar,
 * battles, and the matrix of each agent's share of points against each other. `version` reloads it.
 */
export function ArenaLeaderboardPanel({
  connection,
  version,
}: {
  connection: ArenaConnection;
  version: number;
}) {
  const [category, setCategory] = useState<string | null>(null);
  const [board, setBoard] = useState<ArenaLeaderboard | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    // `version` changes after a vote: the battles changed.
    void version;
    fetchArenaLeaderboard(connection, category, controller.signal).then(
      (result) => {
        setBoard(result);
        setError(null);
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(describeArenaError(failure));
      },
    );
    return () => controller.abort();
  }, [connection, category, version]);

  return (
    <section
      className="arena-leaderboard"
      aria-labelledby="arena-leaderboard-title"
      data-testid="arena-leaderboard"
    >
      <div className="arena-leaderboard-head">
        <h3 id="arena-leaderboard-title" className="panel-title">
          Arena leaderboard
        </h3>
        <label className="arena-field arena-category-select">
          <span>Category</span>
          <select
            value={category ?? ''}
            onChange={(event) => setCategory(event.target.value === '' ? null : event.target.value)}
            data-testid="arena-category"
          >
            <option value="">All battles</option>
            {(board?.categories ?? [])
              .filter((entry): entry is { category: string; battles: number } => entry.category !== null)
              .map((entry) => (
                <option key={entry.category} value={entry.category}>
                  {entry.category} ({entry.battles})
                </option>
              ))}
          </select>
        </label>
      </div>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {board === null && !error && (
        <p className="muted" role="status">
          <Spinner /> Loading ratings…
        </p>
      )}
      {board !== null && board.ratings.length === 0 && (
        <p className="muted" data-testid="arena-empty">
          No battles yet{category ? ` in ${category}` : ''}. Compare two agents above, or import battles with{' '}
          <code>npx merit arena import FILE</code>.
        </p>
      )}
      {board !== null && board.ratings.length > 0 && <RatingsTable board={board} />}
      {board !== null && board.ratings.length > 1 && <WinRateMatrix board={board} />}
      {board !== null && board.ratings.length > 0 && (
        <p className="muted small">
          {board.total_battles} battles · Bradley-Terry, mean rating 1000 · {Math.round(board.level * 100)}%
          intervals from {board.bootstrap_rounds} bootstrap rounds (seed {board.seed}) · rank = 1 + agents
          whose interval lies entirely above.
        </p>
      )}
    </section>
  );
}

function RatingsTable({ board }: { board: ArenaLeaderboard }) {
  const position = intervalScale(board.ratings);
  return (
    <table className="arena-table" data-testid="arena-ratings">
      <thead>
        <tr>
          <th scope="col">Rank</th>
          <th scope="col">Agent</th>
          <th scope="col">Rating</th>
          <th scope="col">95% interval</th>
          <th scope="col">Battles</th>
        </tr>
      </thead>
      <tbody>
        {board.ratings.map((rating) => {
          const low = position(rating.lower ?? rating.rating);
          const high = position(rating.upper ?? rating.rating);
          return (
            <tr key={rating.agent_id} data-testid={`arena-rating-${rating.agent_id}`}>
              <td>{rating.rank}</td>
              <td>
                @{rating.nickname}
                {rating.origin === 'external' && <span className="arena-external">external</span>}
              </td>
              <td className="arena-number">{formatRating(rating.rating)}</td>
              <td>
                <span className="arena-interval">
                  <span className="arena-number">
                    {formatRating(rating.lower)}–{formatRating(rating.upper)}
                  </span>
                  <span className="arena-interval-track" aria-hidden="true">
                    <span
                      className="arena-interval-bar"
                      style={{ left: `${low}%`, width: `${Math.max(high - low, 1)}%` }}
                    />
                    <span className="arena-interval-point" style={{ left: `${position(rating.rating)}%` }} />
                  </span>
                </span>
              </td>
              <td className="arena-number">{rating.battles}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function WinRateMatrix({ board }: { board: ArenaLeaderboard }) {
  const ids = board.ratings.map((rating) => rating.agent_id);
  const nickname = new Map(board.ratings.map((rating) => [rating.agent_id, rating.nickname]));
  return (
    <div className="arena-matrix-wrap">
      <table className="arena-table arena-matrix" data-testid="arena-win-rates">
        <caption className="muted small">
          Share of points of the row agent against the column agent (ties count half)
        </caption>
        <thead>
          <tr>
            <th scope="col">vs.</th>
            {ids.map((id) => (
              <th key={id} scope="col">
                @{nickname.get(id)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {ids.map((row) => (
            <tr key={row}>
              <th scope="row">@{nickname.get(row)}</th>
              {ids.map((column) => {
                if (row === column) return <td key={column} className="arena-matrix-self" />;
                const rate = board.win_rates[row]?.[column] ?? null;
                const count = board.battle_counts[row]?.[column] ?? null;
                return (
                  <td
                    key={column}
                    className="arena-number"
                    style={
                      rate === null
                        ? undefined
                        : { background: `hsl(${Math.round(rate * 120)} 60% 50% / 0.25)` }
                    }
                    title={count === null ? 'never met' : `${count} battles`}
                  >
                    {rate === null ? '—' : `${Math.round(rate * 100)}%`}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
