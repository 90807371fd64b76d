/** Plain words for the status page's figures (pure, tested with literal inputs). */

export type Tone = 'success' | 'error' | 'info';

export function describeAge(ms: number | null): string {
  if (ms === null) return 'none';
  if (ms < 1_000) return 'under a second';
  const seconds = Math.round(ms / 1_000);
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

export function describeWorkerState(worker: {
  alive: boolean | null;
  stalled: boolean | null;
  live_workers: number | null;
}): { text: string; tone: Tone } {
  if (worker.alive === null) return { text: 'unknown', tone: 'info' };
  if (!worker.alive) return { text: 'not running: no worker holds its lock', tone: 'error' };
  if (worker.stalled) return { text: 'running, but jobs wait with no worker taking them', tone: 'error' };
  const count = worker.live_workers ?? 0;
  return { text: `running (${count} ${count === 1 ? 'worker' : 'workers'})`, tone: 'success' };
}

export function describeReachable(reachable: boolean | null): { text: string; tone: Tone } {
  if (reachable === null) return { text: 'not called yet', tone: 'info' };
  return reachable ? { text: 'reachable', tone: 'success' } : { text: 'unreachable', tone: 'error' };
}

/** A count that may be unknown: never shown as 0 when it is not known. */
export function describeCount(value: number | null): string {
  return value === null ? 'unknown' : String(value);
}
