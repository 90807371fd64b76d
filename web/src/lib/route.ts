import type { TaskStatus } from './api-schemas.js';

export type Route = { name: 'home' } | { name: 'agent'; agentId: string };

/** Splits `#/path?query` into its path and its query. */
function splitHash(hash: string): { path: string; query: URLSearchParams } {
  const index = hash.indexOf('?');
  return index === -1
    ? { path: hash, query: new URLSearchParams() }
    : { path: hash.slice(0, index), query: new URLSearchParams(hash.slice(index + 1)) };
}

/** Reads `#/agents/<id>` (with or without a `?query`); anything else is the home view. */
export function parseRoute(hash: string): Route {
  const match = /^#\/agents\/([^/?#]+)\/?$/.exec(splitHash(hash).path);
  if (match?.[1]) {
    try {
      return { name: 'agent', agentId: decodeURIComponent(match[1]) };
    } catch {
      return { name: 'home' };
    }
  }
  return { name: 'home' };
}

export function buildAgentHash(agentId: string, state: Partial<ViewState> = {}): string {
  return withQuery(`#/agents/${encodeURIComponent(agentId)}`, state);
}

export const PANELS = ['actions', 'leaderboard', 'routing'] as const;
export type Panel = (typeof PANELS)[number];

export const RANGES = ['24h', '7d', '30d', '90d', 'all'] as const;
/** A chart range: the read endpoints' `window` (the period ending now), sent as such. */
export type Range = (typeof RANGES)[number];
const STATUSES: readonly TaskStatus[] = ['queued', 'running', 'completed', 'failed'];

/** What narrows the conversation stream; every field absent shows every task. */
export interface StreamFilters {
  agent?: string;
  category?: string;
  status?: TaskStatus;
  unrated?: boolean;
  mine?: boolean;
  q?: string;
}

/** Navigation state kept in the hash's query, so a link or a reload opens the same view. */
export interface ViewState {
  tab: Panel | null;
  range: Range;
  filters: StreamFilters;
}

/** Reads the view state from a hash such as `#/?tab=leaderboard&status=failed&q=sales`; bad values are ignored. */
export function parseViewState(hash: string): ViewState {
  const { query } = splitHash(hash);
  const tab = query.get('tab');
  const range = query.get('range');
  const status = query.get('status');
  const filters: StreamFilters = {};
  const agent = query.get('agent');
  if (agent) filters.agent = agent;
  const category = query.get('category');
  if (category) filters.category = category;
  if (status && (STATUSES as readonly string[]).includes(status)) filters.status = status as TaskStatus;
  if (query.get('unrated') === 'true') filters.unrated = true;
  if (query.get('mine') === 'true') filters.mine = true;
  const search = query.get('q')?.trim();
  if (search) filters.q = search;
  return {
    tab: tab && (PANELS as readonly string[]).includes(tab) ? (tab as Panel) : null,
    range: range && (RANGES as readonly string[]).includes(range) ? (range as Range) : 'all',
    filters,
  };
}

/** Writes a view state after a hash path, leaving out defaults so plain links stay plain. */
export function withQuery(path: string, state: Partial<ViewState>): string {
  const query = new URLSearchParams();
  if (state.tab) query.set('tab', state.tab);
  if (state.range && state.range !== 'all') query.set('range', state.range);
  const filters = state.filters ?? {};
  if (filters.agent) query.set('agent', filters.agent);
  if (filters.category) query.set('category', filters.category);
  if (filters.status) query.set('status', filters.status);
  if (filters.unrated) query.set('unrated', 'true');
  if (filters.mine) query.set('mine', 'true');
  if (filters.q) query.set('q', filters.q);
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

export function buildHomeHash(state: Partial<ViewState> = {}): string {
  return withQuery('#/', state);
}

/** True when any filter narrows the stream. */
export function hasFilters(filters: StreamFilters): boolean {
  return Object.values(filters).some((value) => value !== undefined && value !== false && value !== '');
}
