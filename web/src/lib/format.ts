const integerFormat = new Intl.NumberFormat('en-US');

export function formatTokens(tokens: number | null | undefined): string {
  return tokens === null || tokens === undefined ? '–' : `${integerFormat.format(Math.round(tokens))} tok`;
}

export function formatCost(cost: number | null | undefined): string {
  if (cost === null || cost === undefined) return '–';
  if (cost === 0) return '$0';
  return cost < 0.01 ? `$${cost.toFixed(4)}` : `$${cost.toFixed(2)}`;
}

/** "2 of 5 tasks unpriced" when some finished tasks have no known cost; null when all are priced. */
export function describeUnpriced(unpriced: number, total: number): string | null {
  return unpriced > 0 ? `${unpriced} of ${total} tasks unpriced` : null;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

/** A 0-1 score shown as a whole percentage-like figure out of 100. */
export function formatScore(score: number | null | undefined): string {
  return score === null || score === undefined ? '–' : (score * 100).toFixed(0);
}

/**
 * A completed task's overall score; without one no quality signal (rating, judge or peer review) has
 * arrived yet, and efficiency alone is no score, so it reads "not evaluated" rather than a number.
 */
export function formatOverallScore(score: number | null | undefined): string {
  return score === null || score === undefined ? 'not evaluated' : formatScore(score);
}

export function formatRating(rating: number | null | undefined): string {
  return rating === null || rating === undefined ? '–' : `${rating.toFixed(1)} ★`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatDay(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
}

/** A 0-1 share as a whole percentage. */
export function formatShare(share: number | null | undefined): string {
  return share === null || share === undefined ? '–' : `${Math.round(share * 100)}%`;
}
