import otlpRoot from '@opentelemetry/otlp-transformer/build/src/generated/root.js';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  decodeExportTraceRequest,
  encodeExportTraceResponse,
  encodeRpcStatus,
  MAX_ATTRIBUTE_DEPTH,
  summarizeRejections,
} from '../../src/otel/otlp-decode.js';

interface ProtoType {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromObject(object: unknown): unknown;
  toObject(message: unknown, options: unknown): Record<string, unknown>;
}
const bindings = (otlpRoot as unknown as { opentelemetry: { proto: any } }).opentelemetry.proto;
const Request: ProtoType = bindings.collector.trace.v1.ExportTraceServiceRequest;
const Response: ProtoType = bindings.collector.trace.v1.ExportTraceServiceResponse;

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const PARENT = 'eee19b7ec3c1b173';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const hex = (text: string) => Buffer.from(text, 'hex');
const request = (spans: unknown[], resource: unknown = { attributes: [] }) => ({
  resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'lib', version: '2.0' }, spans }] }],
});

function decodeJson(body: unknown) {
  return decodeExportTraceRequest(json(body), 'json');
}

function validationFieldOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  throw new Error('no ValidationError');
}

describe('decoding OTLP protobuf with the generated bindings', () => {
  it('reads every span field, attribute type, event, scope and resource', () => {
    const message = Request.fromObject(
      request(
        [
          {
            traceId: hex(TRACE),
            spanId: hex(SPAN),
            parentSpanId: hex(PARENT),
            name: 'chat gpt-4o',
            kind: 3,
            startTimeUnixNano: '1700000000123456789',
            endTimeUnixNano: '1700000001123456789',
            attributes: [
              { key: 'text', value: { stringValue: 'hello' } },
              { key: 'empty', value: { stringValue: '' } },
              { key: 'flag', value: { boolValue: false } },
              { key: 'tokens', value: { intValue: 42 } },
              { key: 'huge', value: { intValue: '9223372036854775807' } },
              { key: 'negative', value: { intValue: '-5' } },
              { key: 'ratio', value: { doubleValue: 0.25 } },
              { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } } },
              {
                key: 'map',
                value: { kvlistValue: { values: [{ key: 'inner', value: { boolValue: true } }] } },
              },
              { key: 'raw', value: { bytesValue: Buffer.from([1, 2, 3]) } },
              { key: 'unset', value: {} },
            ],
            events: [
              {
                name: 'gen_ai.evaluation.result',
                timeUnixNano: '1700000000999999999',
                attributes: [{ key: 'score.value', value: { doubleValue: 0.9 } }],
              },
            ],
            status: { code: 2, message: 'boom' },
          },
        ],
        { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
      ),
    );
    const decoded = decodeExportTraceRequest(Request.encode(message).finish(), 'protobuf');
    expect(decoded.rejectedSpans).toBe(0);
    expect(decoded.spans).toEqual([
      {
        traceId: TRACE,
        spanId: SPAN,
        parentSpanId: PARENT,
        name: 'chat gpt-4o',
        kind: 3,
        startTimeUnixNano: 1700000000123456789n,
        endTimeUnixNano: 1700000001123456789n,
        attributes: {
          text: 'hello',
          empty: '',
          flag: false,
          tokens: 42,
          huge: '9223372036854775807',
          negative: -5,
          ratio: 0.25,
          list: ['a', 1],
          map: { inner: true },
          raw: 'AQID',
          unset: null,
        },
        resource: { 'service.name': 'shop' },
        scope: { name: 'lib', version: '2.0' },
        events: [
          {
            name: 'gen_ai.evaluation.result',
            timeUnixNano: 1700000000999999999n,
            attributes: { 'score.value': 0.9 },
          },
        ],
        status: { code: 2, message: 'boom' },
      },
    ]);
  });

  it('gives a root span a null parent, and defaults for unset fields', () => {
    const message = Request.fromObject(request([{ traceId: hex(TRACE), spanId: hex(SPAN) }], null));
    const [span] = decodeExportTraceRequest(Request.encode(message).finish(), 'protobuf').spans;
    expect(span).toMatchObject({
      parentSpanId: null,
      name: '',
      kind: 0,
      startTimeUnixNano: 0n,
      endTimeUnixNano: 0n,
      attributes: {},
      resource: {},
      events: [],
      status: { code: 0, message: '' },
    });
  });

  it('reads an empty request as no spans', () => {
    expect(decodeExportTraceRequest(new Uint8Array(0), 'protobuf')).toEqual({
      spans: [],
      rejectedSpans: 0,
      rejections: [],
    });
  });

  it(`rejects a span whose attribute values nest deeper than ${MAX_ATTRIBUTE_DEPTH} levels`, () => {
    let value: unknown = { stringValue: 'leaf' };
    for (let level = 0; level <= MAX_ATTRIBUTE_DEPTH; level++)
      value = { kvlistValue: { values: [{ key: 'k', value }] } };
    const spans = [{ traceId: hex(TRACE), spanId: hex(SPAN), attributes: [{ key: 'deep', value }] }];
    const decoded = decodeExportTraceRequest(
      Request.encode(Request.fromObject(request(spans))).finish(),
      'protobuf',
    );
    expect(decoded.spans).toEqual([]);
    expect(decoded.rejections[0]).toMatch(/\.attributes\.deep(\.k)+: nests deeper than 32 levels$/);
  });

  it('refuses bytes that are not an ExportTraceServiceRequest, naming the body', () => {
    expect(validationFieldOf(() => decodeExportTraceRequest(json({ not: 'protobuf' }), 'protobuf'))).toBe(
      'body',
    );
    // A length-delimited field that claims more bytes than there are.
    expect(
      validationFieldOf(() => decodeExportTraceRequest(Uint8Array.from([0x0a, 0x50, 1]), 'protobuf')),
    ).toBe('body');
  });

  it('rejects a span whose ids have the wrong length or are all zeros, keeping the others', () => {
    const spans = [
      { traceId: hex(TRACE), spanId: hex(SPAN) },
      { traceId: hex(TRACE.slice(0, 30)), spanId: hex(SPAN) },
      { traceId: Buffer.alloc(16), spanId: hex(SPAN) },
      { traceId: hex(TRACE), spanId: Buffer.alloc(8) },
      { traceId: hex(TRACE), spanId: hex(SPAN), parentSpanId: Buffer.alloc(3) },
      { traceId: hex(TRACE), spanId: hex(PARENT), parentSpanId: Buffer.alloc(8) },
    ];
    const decoded = decodeExportTraceRequest(
      Request.encode(Request.fromObject(request(spans))).finish(),
      'protobuf',
    );
    expect(decoded.spans.map((span) => [span.spanId, span.parentSpanId])).toEqual([
      [SPAN, null],
      [PARENT, null],
    ]);
    expect(decoded.rejectedSpans).toBe(4);
    expect(decoded.rejections).toEqual([
      'resourceSpans.0.scopeSpans.0.spans.1.traceId: must be 16 bytes (got 15)',
      'resourceSpans.0.scopeSpans.0.spans.2.traceId: must not be all zeros',
      'resourceSpans.0.scopeSpans.0.spans.3.spanId: must not be all zeros',
      'resourceSpans.0.scopeSpans.0.spans.4.parentSpanId: must be 8 bytes (got 3)',
    ]);
  });

  it('rejects a span holding a NUL character, which PostgreSQL cannot store', () => {
    const spans = [
      { traceId: hex(TRACE), spanId: hex(SPAN), name: 'bad\u0000name' },
      {
        traceId: hex(TRACE),
        spanId: hex(SPAN),
        attributes: [{ key: 'note', value: { stringValue: 'a\u0000b' } }],
      },
      { traceId: hex(TRACE), spanId: hex(SPAN), name: 'fine' },
    ];
    const decoded = decodeExportTraceRequest(
      Request.encode(Request.fromObject(request(spans))).finish(),
      'protobuf',
    );
    expect(decoded.spans.map((span) => span.name)).toEqual(['fine']);
    expect(decoded.rejections).toEqual([
      'resourceSpans.0.scopeSpans.0.spans.0.name: must not contain NUL (U+0000) characters',
      'resourceSpans.0.scopeSpans.0.spans.1.attributes.note: must not contain NUL (U+0000) characters',
    ]);
  });

  it('rejects every span of a resource whose attributes break a rule', () => {
    const body = Request.encode(
      Request.fromObject(
        request(
          [
            { traceId: hex(TRACE), spanId: hex(SPAN) },
            { traceId: hex(TRACE), spanId: hex(PARENT) },
          ],
          {
            attributes: [{ key: 'service\u0000name', value: { stringValue: 'x' } }],
          },
        ),
      ),
    ).finish();
    const decoded = decodeExportTraceRequest(body, 'protobuf');
    expect(decoded.spans).toEqual([]);
    expect(decoded.rejectedSpans).toBe(2);
    expect(decoded.rejections[0]).toBe(
      'resourceSpans.0.resource.attributes.0.key: must not contain NUL (U+0000) characters',
    );
  });
});

describe('decoding OTLP JSON', () => {
  const span = {
    traceId: TRACE.toUpperCase(),
    spanId: SPAN,
    parentSpanId: '',
    name: 'invoke_agent planner',
    kind: 1,
    startTimeUnixNano: '1700000000123456789',
    endTimeUnixNano: 1700000001000000000,
    attributes: [
      { key: 'gen_ai.agent.name', value: { stringValue: 'planner' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '120' } },
      { key: 'big', value: { intValue: '-9223372036854775808' } },
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'text_double', value: { doubleValue: '1.5' } },
      { key: 'bytes', value: { bytesValue: 'AQID' } },
    ],
    status: { code: 1 },
    somethingFromTheFuture: { ignored: true },
  };

  it('reads hex ids (any case), integer enums, int64 as strings or numbers, and ignores unknown fields', () => {
    const decoded = decodeJson({ ...request([span]), unknownTopLevel: 1 });
    expect(decoded.rejections).toEqual([]);
    expect(decoded.spans).toEqual([
      {
        traceId: TRACE,
        spanId: SPAN,
        parentSpanId: null,
        name: 'invoke_agent planner',
        kind: 1,
        startTimeUnixNano: 1700000000123456789n,
        endTimeUnixNano: 1700000001000000000n,
        attributes: {
          'gen_ai.agent.name': 'planner',
          'gen_ai.usage.input_tokens': 120,
          big: '-9223372036854775808',
          nan: 'NaN',
          text_double: 1.5,
          bytes: 'AQID',
        },
        resource: {},
        scope: { name: 'lib', version: '2.0' },
        events: [],
        status: { code: 1, message: '' },
      },
    ]);
  });

  it('reads the proto field names (snake_case) and enum names as well', () => {
    const decoded = decodeJson({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'shop' } }] },
          scope_spans: [
            {
              scope: { name: 'lib' },
              spans: [
                {
                  trace_id: TRACE,
                  span_id: SPAN,
                  parent_span_id: PARENT,
                  name: 'execute_tool search',
                  kind: 'SPAN_KIND_CLIENT',
                  start_time_unix_nano: '10',
                  end_time_unix_nano: '20',
                  events: [{ name: 'e', time_unix_nano: '15', attributes: [] }],
                  status: { code: 'STATUS_CODE_ERROR', message: 'failed' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(decoded.spans).toEqual([
      {
        traceId: TRACE,
        spanId: SPAN,
        parentSpanId: PARENT,
        name: 'execute_tool search',
        kind: 3,
        startTimeUnixNano: 10n,
        endTimeUnixNano: 20n,
        attributes: {},
        resource: { 'service.name': 'shop' },
        scope: { name: 'lib', version: null },
        events: [{ name: 'e', timeUnixNano: 15n, attributes: {} }],
        status: { code: 2, message: 'failed' },
      },
    ]);
  });

  it('rejects spans that break a rule, naming the field, and keeps the rest', () => {
    const bad = [
      { ...span, traceId: 'W7j/95gDgQPSabYzgT/GDA==' },
      { ...span, spanId: 'eee19b7ec3c1b17' },
      { ...span, kind: 9 },
      { ...span, status: { code: 3 } },
      { ...span, startTimeUnixNano: '-1' },
      { ...span, endTimeUnixNano: '18446744073709551616' },
      { ...span, name: 42 },
      { ...span, attributes: { not: 'a list' } },
      { ...span, attributes: [{ key: 'flag', value: { boolValue: 'yes' } }] },
      { ...span, events: [{ name: 'e', timeUnixNano: 1.5 }] },
    ];
    const decoded = decodeJson(request([span, ...bad]));
    expect(decoded.spans).toHaveLength(1);
    expect(decoded.rejectedSpans).toBe(bad.length);
    const at = 'resourceSpans.0.scopeSpans.0.spans';
    expect(decoded.rejections).toEqual([
      `${at}.1.traceId: must be 32 hex digits (16 bytes)`,
      `${at}.2.spanId: must be 16 hex digits (8 bytes)`,
      `${at}.3.kind: must be an integer from 0 to 5`,
      `${at}.4.status.code: must be an integer from 0 to 2`,
      `${at}.5.startTimeUnixNano: must be an unsigned 64-bit integer`,
      `${at}.6.endTimeUnixNano: must be an unsigned 64-bit integer`,
      `${at}.7.name: must be a string`,
      `${at}.8.attributes: must be an array`,
      `${at}.9.attributes.flag: boolValue must be true or false`,
      `${at}.10.events.0.timeUnixNano: must be an integer`,
    ]);
  });

  it(`rejects attribute values nested deeper than ${MAX_ATTRIBUTE_DEPTH} levels`, () => {
    let value: unknown = { stringValue: 'leaf' };
    for (let level = 0; level <= MAX_ATTRIBUTE_DEPTH; level++) value = { arrayValue: { values: [value] } };
    const decoded = decodeJson(request([{ ...span, attributes: [{ key: 'deep', value }] }]));
    expect(decoded.spans).toEqual([]);
    expect(decoded.rejections[0]).toMatch(/attributes\.deep(\.0)+: nests deeper than 32 levels$/);
  });

  it('keeps an attribute named __proto__ as an attribute', () => {
    const decoded = decodeJson(
      request([{ ...span, attributes: [{ key: '__proto__', value: { stringValue: 'x' } }] }]),
    );
    const attributes = decoded.spans[0]?.attributes ?? {};
    expect(Object.getOwnPropertyNames(attributes)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
  });

  it('refuses a body that is not an ExportTraceServiceRequest, naming the field', () => {
    expect(
      validationFieldOf(() =>
        decodeExportTraceRequest(new TextEncoder().encode('{"resourceSpans": ['), 'json'),
      ),
    ).toBe('body');
    expect(validationFieldOf(() => decodeJson([1, 2]))).toBe('body');
    expect(validationFieldOf(() => decodeExportTraceRequest(Uint8Array.from([0xff, 0xfe]), 'json'))).toBe(
      'body',
    );
    expect(validationFieldOf(() => decodeJson({ resourceSpans: {} }))).toBe('resourceSpans');
    expect(validationFieldOf(() => decodeJson({ resourceSpans: [{ scopeSpans: 'x' }] }))).toBe(
      'resourceSpans.0.scopeSpans',
    );
    expect(validationFieldOf(() => decodeJson({ resourceSpans: [{ scopeSpans: [{ spans: 7 }] }] }))).toBe(
      'resourceSpans.0.scopeSpans.0.spans',
    );
  });
});

describe('encoding OTLP answers', () => {
  it('writes an empty ExportTraceServiceResponse when every span was accepted', () => {
    expect(encodeExportTraceResponse({ rejectedSpans: 0, errorMessage: '' }, 'json')).toBe('{}');
    expect(
      (encodeExportTraceResponse({ rejectedSpans: 0, errorMessage: '' }, 'protobuf') as Uint8Array).length,
    ).toBe(0);
  });

  it('writes partial_success in both encodings', () => {
    const result = { rejectedSpans: 3, errorMessage: 'three bad spans' };
    expect(JSON.parse(encodeExportTraceResponse(result, 'json') as string)).toEqual({
      partialSuccess: { rejectedSpans: '3', errorMessage: 'three bad spans' },
    });
    const bytes = encodeExportTraceResponse(result, 'protobuf') as Uint8Array;
    expect(Response.toObject(Response.decode(bytes), { longs: Number })).toEqual({
      partialSuccess: { rejectedSpans: 3, errorMessage: 'three bad spans' },
    });
  });

  it('writes google.rpc.Status as its protobuf fields (code 1, message 2)', () => {
    expect([...encodeRpcStatus(3, 'bad')]).toEqual([0x08, 3, 0x12, 3, 0x62, 0x61, 0x64]);
  });

  it('shows the first five rejection reasons and counts the rest', () => {
    const reasons = Array.from({ length: 8 }, (_, i) => `span ${i}`);
    expect(summarizeRejections(reasons)).toBe('span 0; span 1; span 2; span 3; span 4; and 3 more');
    expect(summarizeRejections(['x'.repeat(400)])).toBe(`${'x'.repeat(300)}...`);
  });
});
