import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { type MeritStatus, type StatusConnection, statusQuery } from './api/get-status.js';
import {
  describeAge,
  describeCount,
  describeReachable,
  describeWorkerState,
  type Tone,
} from './describe-status.js';
import { ScrollRegion } from './scroll-region.js';

export interface StatusPageProps {
  connection: StatusConnection;
}

/** Merit's state at a glance: database, worker and queue, each LLM model, the evaluation backlog, version. */
export function StatusPage({ connection }: StatusPageProps) {
  const status = useQuery(statusQuery(connection));
  const baseId = useId();
  return (
    <section className="status-page" aria-labelledby={`${baseId}-title`} data-testid="status-page">
      <h2 id={`${baseId}-title`} className="panel-title">
        Status
        {status.data && <span className="muted"> · Merit {status.data.version}</span>}
      </h2>
      {status.isPending && (
        <p className="muted" role="status">
          Reading the status…
        </p>
      )}
      {status.isError && (
        <div className="notice notice-error" role="alert" data-testid="status-error">
          {status.error.message}
        </div>
      )}
      {status.data && <StatusSections status={status.data} />}
    </section>
  );
}

function Badge({ tone, children }: { tone: Tone; children: string }) {
  return <span className={`status-badge tone-${tone}`}>{children}</span>;
}

function StatusSections({ status }: { status: MeritStatus }) {
  const { database, worker, llm, evaluation } = status;
  const workerState = describeWorkerState(worker);
  return (
    <>
      <h3 className="panel-title">Database</h3>
      <dl className="stats stats-compact" data-testid="status-database">
        <div className="stat">
          <dt>Connection</dt>
          <dd>
            <Badge tone={database.reachable ? 'success' : 'error'}>
              {database.reachable ? 'reachable' : 'unreachable'}
            </Badge>
            {database.error && <span className="small"> {database.error}</span>}
          </dd>
        </div>
        <div className="stat">
          <dt>Server</dt>
          <dd>
            PostgreSQL {database.server_version ?? 'version unknown'} (
            {database.kind === 'embedded' ? 'embedded' : 'external'})
          </dd>
        </div>
        <div className="stat">
          <dt>Latency</dt>
          <dd>{database.latency_ms === null ? 'unknown' : `${database.latency_ms} ms`}</dd>
        </div>
      </dl>

      <h3 className="panel-title">Worker and job queue</h3>
      <p data-testid="status-worker">
        <Badge tone={workerState.tone}>{workerState.text}</Badge>{' '}
        <span className="muted small">
          {worker.runs_in_this_process
            ? 'This server runs a worker.'
            : 'This server runs no worker of its own.'}
          {worker.last_activity_at
            ? ` Last job activity ${new Date(worker.last_activity_at).toLocaleString()}.`
            : ''}
        </span>
        {worker.error && <span className="small"> {worker.error}</span>}
      </p>
      <p className="small">
        Ready jobs: {describeCount(worker.ready_jobs)} · running: {describeCount(worker.running_jobs)} ·
        oldest ready job waiting: {describeAge(worker.oldest_ready_age_ms)}
      </p>
      {worker.queue.length > 0 && (
        <ScrollRegion label="Jobs by kind">
          <table className="keys-table" data-testid="status-queue">
            <caption className="visually-hidden">Jobs by kind</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Ready</th>
                <th scope="col">Scheduled</th>
                <th scope="col">Running</th>
                <th scope="col">Failed for good</th>
                <th scope="col">Oldest ready</th>
              </tr>
            </thead>
            <tbody>
              {worker.queue.map((row) => (
                <tr key={row.task_identifier}>
                  <th scope="row">{row.task_identifier}</th>
                  <td>{row.ready}</td>
                  <td>{row.scheduled}</td>
                  <td>{row.running}</td>
                  <td>{row.failed}</td>
                  <td>{describeAge(row.oldest_ready_age_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}

      <h3 className="panel-title">LLM</h3>
      {llm.mode === 'offline' ? (
        <p data-testid="status-llm">
          <Badge tone="info">{llm.message ?? 'offline'}</Badge>
        </p>
      ) : (
        <ScrollRegion label="Each model's connection">
          <table className="keys-table" data-testid="status-llm">
            <caption className="visually-hidden">Each model's connection ({llm.provider})</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Used for</th>
                <th scope="col">Connection</th>
                <th scope="col">Calls (failed)</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {llm.models.map((model) => {
                const state = describeReachable(model.reachable);
                return (
                  <tr key={model.model}>
                    <th scope="row">{model.model}</th>
                    <td>{model.roles.join(', ') || '—'}</td>
                    <td>
                      <Badge tone={state.tone}>{state.text}</Badge>
                    </td>
                    <td>
                      {model.calls} ({model.failures})
                    </td>
                    <td className="small">
                      {model.last_error
                        ? `${model.last_error}${model.last_failure_at ? ` (${new Date(model.last_failure_at).toLocaleString()})` : ''}`
                        : 'none'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p className="muted small">Outcomes of the calls made by {llm.observed_in}.</p>
        </ScrollRegion>
      )}

      <h3 className="panel-title">Evaluation backlog</h3>
      <dl className="stats stats-compact" data-testid="status-evaluation">
        <div className="stat">
          <dt>Evaluator</dt>
          <dd>
            {evaluation.enabled
              ? `${evaluation.evaluator === 'llm' ? 'LLM judge' : 'offline evaluator'}, ${Math.round(evaluation.sample_rate * 100)}% of tasks`
              : 'off'}
          </dd>
        </div>
        <div className="stat">
          <dt>Tasks waiting for evaluation</dt>
          <dd>
            {describeCount(evaluation.pending_tasks)}
            {evaluation.oldest_pending_age_ms !== null && (
              <span className="muted small"> (oldest {describeAge(evaluation.oldest_pending_age_ms)})</span>
            )}
          </dd>
        </div>
        <div className="stat">
          <dt>Completed tasks without a score</dt>
          <dd>{describeCount(evaluation.unscored_tasks)}</dd>
        </div>
        <div className="stat">
          <dt>Failed in 24 h</dt>
          <dd>
            {describeCount(evaluation.failed_evaluations_24h)} evaluations,{' '}
            {describeCount(evaluation.failed_reviews_24h)} reviews
            {evaluation.abandoned_tasks ? `, ${evaluation.abandoned_tasks} tasks given up` : ''}
          </dd>
        </div>
      </dl>
      {evaluation.error && <p className="small">{evaluation.error}</p>}
    </>
  );
}
