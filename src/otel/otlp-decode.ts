import { createRequire } from 'node:module';
import otlpRoot from '@opentelemetry/otlp-transformer/build/src/generated/root.js';
import { ValidationError } from '../errors.js';
import type { Attributes, AttributeValue, OtlpSpan, OtlpSpanEvent, SpanIngestResult } from './otlp-span.js';

/**
 * OTLP/HTTP trace export bodies, both encodings, to OtlpSpan (and the answers back):
 * - `application/x-protobuf` is decoded by the generated protobufjs bindings of opentelemetry-proto that
 *   @opentelemetry/otlp-transformer ships (no hand-written decoder);
 * - `application/json` follows the OTLP JSON mapping: hex trace and span ids, integer enums (their names
 *   are read too), int64 as decimal strings or numbers, lowerCamelCase or snake_case keys, unknown fields
 *   ignored.
 * A body that cannot be decoded at all is a ValidationError (400); a span that breaks a rule (ids, enums,
 * a NUL character, which PostgreSQL cannot store) is rejected alone and counted, as OTLP's partial
 * success says.
 */

export type OtlpEncoding = 'protobuf' | 'json';

export interface DecodedTraceRequest {
  readonly spans: OtlpSpan[];
  readonly rejectedSpans: number;
  /** One reason per rejected span, naming its field (`resourceSpans.0.scopeSpans.0.spans.3.traceId`). */
  readonly rejections: string[];
}

interface ProtoType {
  decode(reader: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  fromObject(object: unknown): unknown;
}

const collector = (
  otlpRoot as unknown as {
    opentelemetry: {
      proto: {
        collector: {
          trace: { v1: { ExportTraceServiceRequest: ProtoType; ExportTraceServiceResponse: ProtoType } };
        };
      };
    };
  }
).opentelemetry.proto.collector.trace.v1;

// The protobufjs runtime the generated bindings were built against (not a second copy of it).
const protobuf = createRequire(
  createRequire(import.meta.url).resolve('@opentelemetry/otlp-transformer/build/src/generated/root.js'),
)('protobufjs/minimal') as { Writer: { create(): ProtoWriter } };

interface ProtoWriter {
  uint32(value: number): ProtoWriter;
  int32(value: number): ProtoWriter;
  string(value: string): ProtoWriter;
  finish(): Uint8Array;
}

/** Nesting of array and key-value list attribute values accepted in a span (deeper is rejected). */
export const MAX_ATTRIBUTE_DEPTH = 32;
/** Reasons kept in partial_success.error_message, each cut to a length; the rest are counted. */
const MAX_REASONS_SHOWN = 5;
const MAX_REASON_CHARS = 300;
const MAX_UINT64 = (1n << 64n) - 1n;
const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

/** Decodes an ExportTraceServiceRequest body (already decompressed) into spans and rejected spans. */
export function decodeExportTraceRequest(body: Uint8Array, encoding: OtlpEncoding): DecodedTraceRequest {
  return collectSpans(encoding === 'protobuf' ? decodeProtobuf(body) : decodeJson(body));
}

/** ExportTraceServiceResponse, with partial_success when spans were rejected (empty otherwise, as OTLP says). */
export function encodeExportTraceResponse(
  result: Pick<SpanIngestResult, 'rejectedSpans' | 'errorMessage'>,
  encoding: OtlpEncoding,
): Uint8Array | string {
  const partial =
    result.rejectedSpans > 0
      ? { rejectedSpans: result.rejectedSpans, errorMessage: result.errorMessage }
      : undefined;
  if (encoding === 'json') {
    // int64 as a decimal string, per the protobuf JSON mapping.
    return JSON.stringify(
      partial
        ? {
            partialSuccess: {
              rejectedSpans: String(partial.rejectedSpans),
              errorMessage: partial.errorMessage,
            },
          }
        : {},
    );
  }
  const type = collector.ExportTraceServiceResponse;
  return type.encode(type.fromObject(partial ? { partialSuccess: partial } : {})).finish();
}

/**
 * google.rpc.Status, the body of every OTLP error answer. The OTLP bindings do not include it, so it is
 * written field by field (`int32 code = 1; string message = 2;`) with the same protobufjs Writer.
 */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return protobuf.Writer.create()
    .uint32((1 << 3) | 0)
    .int32(code)
    .uint32((2 << 3) | 2)
    .string(message)
    .finish();
}

/** Joins rejection reasons for partial_success.error_message, the first few in full. */
export function summarizeRejections(reasons: readonly string[]): string {
  const shown = reasons
    .slice(0, MAX_REASONS_SHOWN)
    .map((reason) => (reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}...` : reason))
    .join('; ');
  const more = reasons.length - MAX_REASONS_SHOWN;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

function decodeProtobuf(body: Uint8Array): unknown {
  try {
    return collector.ExportTraceServiceRequest.decode(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError('body', `is not a protobuf ExportTraceServiceRequest (${reason})`, {
      cause: error,
    });
  }
}

function decodeJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (error) {
    throw new ValidationError('body', 'is not UTF-8 text', { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('body', 'is not valid JSON', { cause: error });
  }
  if (!isRecord(parsed))
    throw new ValidationError('body', 'must be a JSON object (ExportTraceServiceRequest)');
  return parsed;
}

/** A span, event or value that breaks a rule: the span is rejected, the rest of the request is kept. */
class SpanDefect extends Error {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

type Loose = Record<string, unknown>;

function collectSpans(request: unknown): DecodedTraceRequest {
  const spans: OtlpSpan[] = [];
  const rejections: string[] = [];
  let rejectedSpans = 0;
  const resourceSpans = readList(request as Loose, 'resourceSpans', 'resourceSpans');
  resourceSpans.forEach((resourceSpan, r) => {
    const at = `resourceSpans.${r}`;
    const resourceEntry = asRecord(resourceSpan, at);
    const scopeSpans = readList(resourceEntry, 'scopeSpans', `${at}.scopeSpans`);
    let resource: Attributes | SpanDefect;
    try {
      const resourceMessage = readField(resourceEntry, 'resource');
      resource = isNullish(resourceMessage)
        ? {}
        : readAttributes(asSpanRecord(resourceMessage, `${at}.resource`), `${at}.resource`);
    } catch (error) {
      resource = asDefect(error);
    }
    scopeSpans.forEach((scopeSpan, s) => {
      const scopeAt = `${at}.scopeSpans.${s}`;
      const scopeEntry = asRecord(scopeSpan, scopeAt);
      const list = readList(scopeEntry, 'spans', `${scopeAt}.spans`);
      let scope: OtlpSpan['scope'] | SpanDefect;
      try {
        scope = readScope(readField(scopeEntry, 'scope'), `${scopeAt}.scope`);
      } catch (error) {
        scope = asDefect(error);
      }
      list.forEach((span, index) => {
        try {
          if (resource instanceof SpanDefect) throw resource;
          if (scope instanceof SpanDefect) throw scope;
          spans.push(readSpan(span, `${scopeAt}.spans.${index}`, resource, scope));
        } catch (error) {
          rejectedSpans++;
          rejections.push(asDefect(error).message);
        }
      });
    });
  });
  return { spans, rejectedSpans, rejections };
}

function asDefect(error: unknown): SpanDefect {
  if (error instanceof SpanDefect) return error;
  throw error;
}

function readSpan(raw: unknown, at: string, resource: Attributes, scope: OtlpSpan['scope']): OtlpSpan {
  const span = asSpanRecord(raw, at);
  const traceId = readId(readField(span, 'traceId'), 16, `${at}.traceId`);
  const spanId = readId(readField(span, 'spanId'), 8, `${at}.spanId`);
  if (traceId === undefined) throw new SpanDefect(`${at}.traceId`, 'is required (16 bytes)');
  if (spanId === undefined) throw new SpanDefect(`${at}.spanId`, 'is required (8 bytes)');
  if (/^0+$/.test(traceId)) throw new SpanDefect(`${at}.traceId`, 'must not be all zeros');
  if (/^0+$/.test(spanId)) throw new SpanDefect(`${at}.spanId`, 'must not be all zeros');
  const parent = readId(readField(span, 'parentSpanId'), 8, `${at}.parentSpanId`);
  const status = readField(span, 'status');
  const statusRecord = isNullish(status) ? {} : asSpanRecord(status, `${at}.status`);
  return {
    traceId,
    spanId,
    // An all-zero parent is OTLP's invalid span id: no parent.
    parentSpanId: parent === undefined || /^0+$/.test(parent) ? null : parent,
    name: readString(readField(span, 'name'), `${at}.name`),
    kind: readEnum(readField(span, 'kind'), SPAN_KINDS, `${at}.kind`),
    startTimeUnixNano: readUint64(readField(span, 'startTimeUnixNano'), `${at}.startTimeUnixNano`),
    endTimeUnixNano: readUint64(readField(span, 'endTimeUnixNano'), `${at}.endTimeUnixNano`),
    attributes: readAttributes(span, at),
    resource,
    scope,
    events: readSpanList(readField(span, 'events'), `${at}.events`).map((event, e) =>
      readEvent(event, `${at}.events.${e}`),
    ),
    status: {
      code: readEnum(readField(statusRecord, 'code'), STATUS_CODES, `${at}.status.code`) as 0 | 1 | 2,
      message: readString(readField(statusRecord, 'message'), `${at}.status.message`),
    },
  };
}

function readEvent(raw: unknown, at: string): OtlpSpanEvent {
  const event = asSpanRecord(raw, at);
  return {
    name: readString(readField(event, 'name'), `${at}.name`),
    timeUnixNano: readUint64(readField(event, 'timeUnixNano'), `${at}.timeUnixNano`),
    attributes: readAttributes(event, at),
  };
}

function readScope(raw: unknown, at: string): OtlpSpan['scope'] {
  if (isNullish(raw)) return { name: '', version: null };
  const scope = asSpanRecord(raw, at);
  const version = readString(readField(scope, 'version'), `${at}.version`);
  return {
    name: readString(readField(scope, 'name'), `${at}.name`),
    version: version === '' ? null : version,
  };
}

/** The `attributes` (a list of KeyValue) of a span, event or resource, as a plain object. */
function readAttributes(owner: Loose, at: string): Attributes {
  const list = readSpanList(readField(owner, 'attributes'), `${at}.attributes`);
  return readKeyValues(list, `${at}.attributes`, 0);
}

/** A list of KeyValue as a plain object (the last of a repeated key wins). */
function readKeyValues(list: readonly unknown[], at: string, depth: number): Record<string, AttributeValue> {
  const values: Record<string, AttributeValue> = {};
  for (let index = 0; index < list.length; index++) {
    const keyValue = asSpanRecord(list[index], `${at}.${index}`);
    const key = readString(readField(keyValue, 'key'), `${at}.${index}.key`);
    const value = readAnyValue(readField(keyValue, 'value'), `${at}.${key}`, depth);
    // An own property even for a key named __proto__ (plain assignment would set the prototype).
    if (key === '__proto__')
      Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
    else values[key] = value;
  }
  return values;
}

/** OTLP AnyValue as plain data; an empty AnyValue is null. */
function readAnyValue(raw: unknown, at: string, depth: number): AttributeValue {
  if (depth > MAX_ATTRIBUTE_DEPTH)
    throw new SpanDefect(at, `nests deeper than ${MAX_ATTRIBUTE_DEPTH} levels`);
  if (isNullish(raw)) return null;
  const value = asSpanRecord(raw, at);
  const text = readField(value, 'stringValue');
  if (!isNullish(text)) return readString(text, at);
  const flag = readField(value, 'boolValue');
  if (!isNullish(flag)) {
    if (typeof flag !== 'boolean') throw new SpanDefect(at, 'boolValue must be true or false');
    return flag;
  }
  const integer = readField(value, 'intValue');
  if (!isNullish(integer)) {
    const parsed = readInt64(integer, at);
    // int64 values a double cannot hold exactly stay decimal strings.
    return Number.isSafeInteger(Number(parsed)) ? Number(parsed) : parsed.toString();
  }
  const double = readField(value, 'doubleValue');
  if (!isNullish(double)) return readDouble(double, at);
  const array = readField(value, 'arrayValue');
  if (!isNullish(array)) {
    const values = readSpanList(readField(asSpanRecord(array, at), 'values'), at);
    return values.map((item, index) => readAnyValue(item, `${at}.${index}`, depth + 1));
  }
  const kvlist = readField(value, 'kvlistValue');
  if (!isNullish(kvlist)) {
    const values = readSpanList(readField(asSpanRecord(kvlist, at), 'values'), at);
    return readKeyValues(values, at, depth + 1);
  }
  const bytes = readField(value, 'bytesValue');
  if (!isNullish(bytes)) {
    // Bytes are kept as base64 text, as the JSON encoding carries them.
    if (bytes instanceof Uint8Array) return Buffer.from(bytes).toString('base64');
    if (typeof bytes === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(bytes)) return bytes;
    throw new SpanDefect(at, 'bytesValue must be base64');
  }
  return null;
}

/** A trace or span id: bytes (protobuf) or hex text (JSON), as lower-case hex; undefined when empty. */
function readId(raw: unknown, bytes: number, at: string): string | undefined {
  if (isNullish(raw)) return undefined;
  if (raw instanceof Uint8Array) {
    if (raw.length === 0) return undefined;
    if (raw.length !== bytes) throw new SpanDefect(at, `must be ${bytes} bytes (got ${raw.length})`);
    return Buffer.isBuffer(raw) ? raw.toString('hex') : Buffer.from(raw).toString('hex');
  }
  if (typeof raw !== 'string') throw new SpanDefect(at, `must be ${bytes * 2} hex digits`);
  if (raw === '') return undefined;
  if (raw.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(raw))
    throw new SpanDefect(at, `must be ${bytes * 2} hex digits (${bytes} bytes)`);
  return raw.toLowerCase();
}

/** Half of a surrogate pair with no other half (`u` mode reads a whole pair as one code point). */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

function readString(raw: unknown, at: string): string {
  if (isNullish(raw)) return '';
  if (typeof raw !== 'string') throw new SpanDefect(at, 'must be a string');
  // PostgreSQL cannot store U+0000 in text or jsonb.
  if (raw.includes('\u0000')) throw new SpanDefect(at, 'must not contain NUL (U+0000) characters');
  // Half an emoji (an SDK's length limit cut the value inside a surrogate pair; JSON carries it as a
  // `\ud83d` escape, protobufjs reads it back as is): jsonb refuses it, so it becomes U+FFFD, as invalid
  // UTF-8 does when decoded.
  return LONE_SURROGATE.test(raw) ? raw.replace(LONE_SURROGATES, '\uFFFD') : raw;
}

/** An enum: its integer (the OTLP JSON rule) or, leniently, its name. */
function readEnum(raw: unknown, names: readonly string[], at: string): number {
  if (isNullish(raw)) return 0;
  const value = typeof raw === 'string' && names.includes(raw) ? names.indexOf(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= names.length)
    throw new SpanDefect(at, `must be an integer from 0 to ${names.length - 1}`);
  return value;
}

/** fixed64: a protobufjs Long, a number, or a decimal string (JSON). */
function readUint64(raw: unknown, at: string): bigint {
  const value = readInteger(raw, at);
  if (value < 0n || value > MAX_UINT64) throw new SpanDefect(at, 'must be an unsigned 64-bit integer');
  return value;
}

function readInt64(raw: unknown, at: string): bigint {
  const value = readInteger(raw, at);
  if (value < -(1n << 63n) || value >= 1n << 63n) throw new SpanDefect(at, 'must be a signed 64-bit integer');
  return value;
}

function readInteger(raw: unknown, at: string): bigint {
  if (isNullish(raw)) return 0n;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw new SpanDefect(at, 'must be an integer');
    return BigInt(raw);
  }
  if (typeof raw === 'string') {
    if (!/^-?\d{1,20}$/.test(raw)) throw new SpanDefect(at, 'must be an integer (decimal digits)');
    return BigInt(raw);
  }
  if (isLong(raw)) {
    const bits = (BigInt(raw.high >>> 0) << 32n) | BigInt(raw.low >>> 0);
    return raw.unsigned ? bits : BigInt.asIntN(64, bits);
  }
  throw new SpanDefect(at, 'must be an integer');
}

function readDouble(raw: unknown, at: string): number | string {
  if (typeof raw === 'number') return raw;
  // The JSON mapping writes the special values as strings; JSON numbers cannot hold them, so they stay text.
  if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return raw;
  if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  throw new SpanDefect(at, 'doubleValue must be a number');
}

function isLong(raw: unknown): raw is { low: number; high: number; unsigned: boolean } {
  return isRecord(raw) && typeof raw.low === 'number' && typeof raw.high === 'number';
}

/**
 * A field by its lowerCamelCase name, or its proto (snake_case) name, which the JSON mapping also
 * accepts. A decoded protobuf message holds unset fields as null on its prototype.
 */
function readField(message: Loose, camelName: string): unknown {
  const camel = message[camelName];
  // A decoded message holds null for an unset field: only JSON can spell it in snake_case.
  if (camel !== undefined) return camel;
  return message[toSnakeCase(camelName)];
}

const snakeNames = new Map<string, string>();
function toSnakeCase(camelName: string): string {
  let snake = snakeNames.get(camelName);
  if (snake === undefined) {
    snake = camelName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    snakeNames.set(camelName, snake);
  }
  return snake;
}

/** A repeated field above the spans: malformed is a malformed request (400). */
function readList(message: Loose, camelName: string, at: string): unknown[] {
  const value = readField(message, camelName);
  if (isNullish(value)) return [];
  if (!Array.isArray(value)) throw new ValidationError(at, 'must be an array');
  return value;
}

function asRecord(raw: unknown, at: string): Loose {
  if (!isRecord(raw)) throw new ValidationError(at, 'must be an object');
  return raw;
}

/** A repeated field inside a span: malformed rejects the span. */
function readSpanList(raw: unknown, at: string): unknown[] {
  if (isNullish(raw)) return [];
  if (!Array.isArray(raw)) throw new SpanDefect(at, 'must be an array');
  return raw;
}

function asSpanRecord(raw: unknown, at: string): Loose {
  if (!isRecord(raw)) throw new SpanDefect(at, 'must be an object');
  return raw;
}

function isRecord(value: unknown): value is Loose {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function isNullish(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}
