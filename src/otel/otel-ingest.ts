import type { AppContext } from '../app-context.js';
import { runTransaction } from '../db/transaction.js';
import { insertSpans, type SpanRecord } from './otel.queries.js';
import type { OtlpSpan, SpanIngestResult } from './otlp-span.js';
import { findSpanDefect, isAgentSpan, readText } from './span-mapping.js';

/**
 * Stores a batch of received spans of one project (idempotent by trace and span id: a span exported
 * twice is stored once). Spans that cannot be stored are rejected with the reason.
 */
export async function ingestSpans(
  ctx: AppContext,
  projectId: string,
  spans: readonly OtlpSpan[],
): Promise<SpanIngestResult> {
  const reasons: string[] = [];
  const records: SpanRecord[] = [];
  for (const span of spans) {
    const defect = findSpanDefect(span);
    if (defect) reasons.push(defect);
    else records.push(toSpanRecord(projectId, span));
  }
  await runTransaction(ctx.db, (trx) => insertSpans(trx, records));
  return {
    acceptedSpans: records.length,
    rejectedSpans: reasons.length,
    errorMessage: reasons.join('; '),
  };
}

function toSpanRecord(projectId: string, span: OtlpSpan): SpanRecord {
  const agent = isAgentSpan(span);
  return {
    project_id: projectId,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    start_time_unix_nano: span.startTimeUnixNano.toString(),
    end_time_unix_nano: span.endTimeUnixNano.toString(),
    status_code: span.status.code,
    status_message: span.status.message,
    attributes: span.attributes,
    resource: span.resource,
    scope_name: span.scope.name,
    scope_version: span.scope.version,
    events: span.events.map((event) => ({
      name: event.name,
      time_unix_nano: event.timeUnixNano.toString(),
      attributes: event.attributes,
    })),
    role: agent ? 'agent' : 'step',
    task_id: null,
    conversation_id: agent ? readText(span.attributes, 'gen_ai.conversation.id') : null,
  };
}
