import type { Attributes, AttributeValue, OtlpSpan } from './otlp-span.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
/** The largest BIGINT: nanoseconds since the epoch up to the year 2262. */
const MAX_UNIX_NANO = 9_223_372_036_854_775_807n;

/** Why a span cannot be stored, or null when it can. */
export function findSpanDefect(span: OtlpSpan): string | null {
  if (!TRACE_ID.test(span.traceId) || span.traceId === ZERO_TRACE_ID)
    return `span ${span.spanId}: trace id ${JSON.stringify(span.traceId)} is not 32 hex digits, not all zero`;
  if (!SPAN_ID.test(span.spanId) || span.spanId === ZERO_SPAN_ID)
    return `span ${JSON.stringify(span.spanId)}: span id is not 16 hex digits, not all zero`;
  if (span.parentSpanId !== null && !SPAN_ID.test(span.parentSpanId))
    return `span ${span.spanId}: parent span id ${JSON.stringify(span.parentSpanId)} is not 16 hex digits`;
  if (span.parentSpanId === span.spanId) return `span ${span.spanId}: is its own parent`;
  if (span.startTimeUnixNano <= 0n || span.startTimeUnixNano > MAX_UNIX_NANO)
    return `span ${span.spanId}: start time is missing or out of range`;
  if (span.endTimeUnixNano < span.startTimeUnixNano || span.endTimeUnixNano > MAX_UNIX_NANO)
    return `span ${span.spanId}: end time is before its start time or out of range`;
  return null;
}

/** The attribute as text (numbers and booleans written out), or null when absent or empty. */
export function readText(attributes: Attributes, key: string): string | null {
  const value: AttributeValue | undefined = attributes[key];
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** True for a span that is a task: an agent invocation in any of the conventions read. */
export function isAgentSpan(span: Pick<OtlpSpan, 'name' | 'attributes'>): boolean {
  return (
    readText(span.attributes, 'gen_ai.operation.name') === 'invoke_agent' ||
    span.name.startsWith('invoke_agent')
  );
}
