import { type FormEvent, useEffect, useId, useState } from 'react';
import type { Agent, TaskStatus } from '../../lib/api-schemas.js';
import { hasFilters, type StreamFilters } from '../../lib/route.js';
import type { CategoryOption } from '../categories/api/get-categories.js';

export interface StreamFiltersBarProps {
  filters: StreamFilters;
  agents: Agent[];
  categories: CategoryOption[];
  /** Local mode lists the user's own tasks anyway: "Only mine" is offered in projects only. */
  offerMine: boolean;
  onChange: (filters: StreamFilters) => void;
}

const STATUS_OPTIONS: { value: TaskStatus; label: string }[] = [
  { value: 'completed', label: 'Completed' },
  { value: 'failed', label: 'Failed' },
  { value: 'running', label: 'Running' },
  { value: 'queued', label: 'Queued' },
];

/** Narrows the conversation: agent, category, status, unrated, failed, mine, and text search. */
export function StreamFiltersBar({
  filters,
  agents,
  categories,
  offerMine,
  onChange,
}: StreamFiltersBarProps) {
  const id = useId();
  const [search, setSearch] = useState(filters.q ?? '');
  // A search changed elsewhere (a link, Back) shows in the box.
  useEffect(() => setSearch(filters.q ?? ''), [filters.q]);

  const set = (changes: Partial<StreamFilters>) => {
    const next: StreamFilters = { ...filters, ...changes };
    for (const key of Object.keys(next) as (keyof StreamFilters)[]) {
      if (next[key] === undefined || next[key] === false || next[key] === '') delete next[key];
    }
    onChange(next);
  };

  const submitSearch = (event: FormEvent) => {
    event.preventDefault();
    set({ q: search.trim() || undefined });
  };

  return (
    <search className="stream-filters" aria-label="Filter the conversation" data-testid="stream-filters">
      <form onSubmit={submitSearch} className="stream-filters-form">
        <div className="filter-search">
          <label htmlFor={`${id}-q`} className="visually-hidden">
            Search commands and results
          </label>
          <input
            id={`${id}-q`}
            type="search"
            value={search}
            placeholder="Search commands and results"
            onChange={(event) => setSearch(event.target.value)}
            maxLength={200}
            data-testid="filter-search"
          />
          <button type="submit" className="button button-small" data-testid="filter-search-submit">
            Search
          </button>
        </div>
        <div className="filter-row">
          <label className="filter-field">
            <span className="visually-hidden">Agent</span>
            <select
              value={filters.agent ?? ''}
              onChange={(event) => set({ agent: event.target.value || undefined })}
              data-testid="filter-agent"
            >
              <option value="">All agents</option>
              {agents.map((agent) => (
                <option key={agent.agent_id} value={agent.agent_id}>
                  @{agent.nickname}
                </option>
              ))}
            </select>
          </label>
          <label className="filter-field">
            <span className="visually-hidden">Category</span>
            <select
              value={filters.category ?? ''}
              onChange={(event) => set({ category: event.target.value || undefined })}
              data-testid="filter-category"
            >
              <option value="">All categories</option>
              {categories.map((item) => (
                <option key={item.category} value={item.category}>
                  {item.display_name}
                </option>
              ))}
            </select>
          </label>
          <label className="filter-field">
            <span className="visually-hidden">Status</span>
            <select
              value={filters.status ?? ''}
              onChange={(event) =>
                set({ status: (event.target.value || undefined) as TaskStatus | undefined })
              }
              data-testid="filter-status"
            >
              <option value="">Any status</option>
              {STATUS_OPTIONS.map((item) => (
                <option key={item.value} value={item.value}>
                  {item.label}
                </option>
              ))}
            </select>
          </label>
          <label className="filter-check">
            <input
              type="checkbox"
              checked={filters.unrated === true}
              onChange={(event) => set({ unrated: event.target.checked })}
              data-testid="filter-unrated"
            />
            Unrated
          </label>
          <label className="filter-check">
            <input
              type="checkbox"
              checked={filters.status === 'failed'}
              onChange={(event) => set({ status: event.target.checked ? 'failed' : undefined })}
              data-testid="filter-failed"
            />
            Failed
          </label>
          {offerMine && (
            <label className="filter-check">
              <input
                type="checkbox"
                checked={filters.mine === true}
                onChange={(event) => set({ mine: event.target.checked })}
                data-testid="filter-mine"
              />
              Only mine
            </label>
          )}
          {hasFilters(filters) && (
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setSearch('');
                onChange({});
              }}
              data-testid="filter-clear"
            >
              Clear filters
            </button>
          )}
        </div>
      </form>
    </search>
  );
}
