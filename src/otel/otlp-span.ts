/**
 * One OpenTelemetry span as Merit reads it, whatever the wire format it came in (OTLP protobuf or JSON):
 * the contract between decoding (`otlp-decode.ts`) and mapping to tasks (`otel-ingest.ts`).
 * Ids are lower-case hex; times are nanoseconds since the epoch as bigint (OTLP's fixed64).
 */
export interface OtlpSpan {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  /** null for a root span (OTLP sends empty bytes). */
  readonly parentSpanId: string | null;
  readonly name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attributes;
  /** The resource's attributes (`service.name`, ...), repeated on each of its spans. */
  readonly resource: Attributes;
  readonly scope: { readonly name: string; readonly version: string | null };
  readonly events: readonly OtlpSpanEvent[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: 0 | 1 | 2; readonly message: string };
}

export interface OtlpSpanEvent {
  readonly name: string;
  readonly timeUnixNano: bigint;
  readonly attributes: Attributes;
}

/** OTLP AnyValue as plain data: int64 values that do not fit a double stay strings. */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | readonly AttributeValue[]
  | { readonly [key: string]: AttributeValue };

export type Attributes = Readonly<Record<string, AttributeValue>>;

/** What ingestion did with a batch: OTLP's `partial_success` when some spans were rejected. */
export interface SpanIngestResult {
  readonly acceptedSpans: number;
  readonly rejectedSpans: number;
  /** Why spans were rejected (empty when none was); OTLP's `partial_success.error_message`. */
  readonly errorMessage: string;
}
