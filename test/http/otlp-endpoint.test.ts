import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import otlpRoot from '@opentelemetry/otlp-transformer/build/src/generated/root.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KeyScope } from '../../src/db/database.js';
import { ensureDefaultData } from '../../src/db/default-data.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey, insertProject } from '../../src/identity/identity.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp, USER } from '../support/app.js';

/**
 * The OTLP/HTTP traces endpoint in-process (required mode unless said): encodings, compression, keys,
 * limits and the answers' formats, with what was stored (otel_spans) checked after each.
 */

interface ProtoType {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromObject(object: unknown): unknown;
  toObject(message: unknown, options: unknown): Record<string, unknown>;
}
const collector = (otlpRoot as unknown as { opentelemetry: { proto: any } }).opentelemetry.proto.collector
  .trace.v1;
const RequestType: ProtoType = collector.ExportTraceServiceRequest;
const ResponseType: ProtoType = collector.ExportTraceServiceResponse;
const { Reader } = createRequire(
  createRequire(import.meta.url).resolve('@opentelemetry/otlp-transformer/build/src/generated/root.js'),
)('protobufjs/minimal') as {
  Reader: {
    create(bytes: Uint8Array): {
      pos: number;
      len: number;
      uint32(): number;
      int32(): number;
      string(): string;
      skipType(wireType: number): void;
    };
  };
};

const MAX_BODY = 64 * 1024;
const APP_MAX_BODY = 48 * 1024;
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** google.rpc.Status from its protobuf bytes (code = 1, message = 2). */
function decodeRpcStatus(bytes: Uint8Array): { code: number; message: string } {
  const reader = Reader.create(bytes);
  const status = { code: 0, message: '' };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) status.code = reader.int32();
    else if (tag >>> 3 === 2) status.message = reader.string();
    else reader.skipType(tag & 7);
  }
  return status;
}

const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');

interface SpanSpec {
  traceId?: string;
  spanId?: string;
  name?: string;
}

/** An OTLP/JSON request of finished spans. */
function jsonRequest(spans: SpanSpec[]) {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'endpoint-test' } }] },
        scopeSpans: [
          {
            scope: { name: 'endpoint-test' },
            spans: spans.map((span) => ({
              traceId: span.traceId ?? newTraceId(),
              spanId: span.spanId ?? newSpanId(),
              name: span.name ?? 'execute_tool search',
              kind: 1,
              startTimeUnixNano: String(now - 1_000_000_000n),
              endTimeUnixNano: String(now),
              attributes: [{ key: 'gen_ai.tool.name', value: { stringValue: 'search' } }],
              status: { code: 1 },
            })),
          },
        ],
      },
    ],
  };
}

/** The same request in protobuf: ids as bytes. */
function protobufRequest(spans: SpanSpec[]): Uint8Array {
  const request = jsonRequest(spans);
  for (const resource of request.resourceSpans)
    for (const scope of resource.scopeSpans)
      for (const span of scope.spans as Record<string, unknown>[]) {
        span.traceId = Buffer.from(span.traceId as string, 'hex');
        span.spanId = Buffer.from(span.spanId as string, 'hex');
      }
  return RequestType.encode(RequestType.fromObject(request)).finish();
}

const gzip = (bytes: Uint8Array | string) => zlib.gzipSync(bytes);

describe('OTLP/HTTP traces endpoint (embedded PostgreSQL)', () => {
  let app: TestApp;
  let ingestKey: string;

  async function createKey(projectId: string, scopes: KeyScope[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId,
      name: scopes.join('+'),
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  async function post(
    path: string,
    body: RequestInit['body'],
    headers: Record<string, string>,
    key: string | null = ingestKey,
  ): Promise<{ status: number; type: string | null; retryAfter: string | null; bytes: Uint8Array }> {
    const response = await app.app.request(path, {
      method: 'POST',
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body,
      // A stream body needs it (Node's fetch).
      duplex: 'half',
    } as RequestInit);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      retryAfter: response.headers.get('retry-after'),
      bytes: new Uint8Array(await response.arrayBuffer()),
    };
  }

  const jsonOf = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

  async function storedSpans(spanIds: string[]): Promise<{ project_id: string; span_id: string }[]> {
    const { rows } = await app.database.pool.query<{ project_id: string; span_id: string }>(
      'SELECT project_id, span_id FROM otel_spans WHERE span_id = ANY($1::text[]) ORDER BY span_id',
      [spanIds],
    );
    return rows;
  }

  async function countSpans(): Promise<number> {
    const { rows } = await app.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM otel_spans');
    return Number(rows[0]?.n);
  }

  beforeAll(async () => {
    app = await createTestApp('embedded', {
      MERIT_AUTH: 'required',
      MERIT_OTLP_MAX_BODY_BYTES: String(MAX_BODY),
      // Below the OTLP limit: under /api the app's own body limit applies too.
      MERIT_MAX_BODY_BYTES: String(APP_MAX_BODY),
      MERIT_OTLP_MAX_IN_FLIGHT: '1',
    });
    ingestKey = await createKey(DEFAULT_PROJECT_ID, ['ingest']);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('stores protobuf spans, plain and gzipped, on both paths, and answers an empty protobuf response', async () => {
    for (const path of ['/v1/traces', '/api/otel/v1/traces']) {
      for (const compressed of [false, true]) {
        const spans = [{ spanId: newSpanId() }, { spanId: newSpanId() }];
        const body = protobufRequest(spans);
        const response = await post(path, compressed ? gzip(body) : body, {
          'content-type': PROTOBUF,
          ...(compressed ? { 'content-encoding': 'gzip' } : {}),
        });
        expect(response.status, `${path} gzip=${compressed}`).toBe(200);
        expect(response.type).toBe(PROTOBUF);
        expect(ResponseType.toObject(ResponseType.decode(response.bytes), {})).toEqual({});
        const ids = spans.map((span) => span.spanId).sort();
        expect(await storedSpans(ids)).toEqual(
          ids.map((id) => ({ project_id: DEFAULT_PROJECT_ID, span_id: id })),
        );
      }
    }
  });

  it('stores JSON spans, plain and gzipped, and answers JSON (charset and letter case of the type ignored)', async () => {
    for (const compressed of [false, true]) {
      const spanId = newSpanId();
      const text = JSON.stringify(jsonRequest([{ spanId }]));
      const response = await post('/v1/traces', compressed ? gzip(text) : text, {
        'content-type': 'Application/JSON; charset=utf-8',
        ...(compressed ? { 'content-encoding': 'gzip' } : { 'content-encoding': 'identity' }),
      });
      expect(response.status).toBe(200);
      expect(response.type).toMatch(/^application\/json/);
      expect(jsonOf(response.bytes)).toEqual({});
      expect(await storedSpans([spanId])).toHaveLength(1);
    }
  });

  it('stores strings holding a lone UTF-16 surrogate (a value cut inside an emoji), as U+FFFD, in both encodings', async () => {
    // An SDK's attribute length limit can cut a string between the two halves of an emoji; JSON then
    // carries the half as an escape (\ud83d), which PostgreSQL's jsonb refuses: the whole export was
    // refused before (400, so the exporter dropped every span of it).
    const cut = 'Paris \u{1F600}'.slice(0, -1);
    const jsonSpan = newSpanId();
    const request = jsonRequest([{ spanId: jsonSpan, name: `search ${cut}` }]);
    const span = request.resourceSpans[0]?.scopeSpans[0]?.spans[0] as { attributes: unknown[] };
    span.attributes.push({ key: 'tool.query', value: { stringValue: cut } });
    const text = JSON.stringify(request);
    expect(text).toContain('\\ud83d');
    const json = await post('/v1/traces', text, { 'content-type': JSON_TYPE });
    expect(json.status).toBe(200);
    expect(jsonOf(json.bytes)).toEqual({});

    const protoSpan = newSpanId();
    const proto = await post('/v1/traces', protobufRequest([{ spanId: protoSpan, name: `search ${cut}` }]), {
      'content-type': PROTOBUF,
    });
    expect(proto.status).toBe(200);
    const { rows } = await app.database.pool.query<{ span_id: string; name: string; query: string | null }>(
      `SELECT span_id, name, attributes->>'tool.query' AS query FROM otel_spans WHERE span_id = ANY($1::text[])
       ORDER BY span_id = $2 DESC`,
      [[jsonSpan, protoSpan], jsonSpan],
    );
    expect(rows[0]).toEqual({ span_id: jsonSpan, name: 'search Paris \uFFFD', query: 'Paris \uFFFD' });
    // protobufjs wrote the half as three bytes that are not UTF-8: each is read as U+FFFD.
    expect(rows[1]?.span_id).toBe(protoSpan);
    expect(rows[1]?.name).toMatch(/^search Paris \uFFFD+$/);
  });

  it('stores a span exported twice once', async () => {
    const span = { traceId: newTraceId(), spanId: newSpanId() };
    for (let i = 0; i < 2; i++) {
      const response = await post('/v1/traces', protobufRequest([span]), { 'content-type': PROTOBUF });
      expect(response.status).toBe(200);
    }
    expect(await storedSpans([span.spanId])).toHaveLength(1);
  });

  it('answers partial_success for rejected spans, naming the field, and stores the rest (both encodings)', async () => {
    const good = newSpanId();
    const request = jsonRequest([{ spanId: good }, { spanId: newSpanId() }, { spanId: newSpanId() }]);
    const spans = request.resourceSpans[0]?.scopeSpans[0]?.spans as Record<string, unknown>[];
    spans[1] = { ...spans[1], traceId: '00000000000000000000000000000000' };
    spans[2] = { ...spans[2], name: 'nul\u0000name' };
    const json = await post('/v1/traces', JSON.stringify(request), { 'content-type': JSON_TYPE });
    expect(json.status).toBe(200);
    expect(jsonOf(json.bytes)).toEqual({
      partialSuccess: {
        rejectedSpans: '2',
        errorMessage:
          'resourceSpans.0.scopeSpans.0.spans.1.traceId: must not be all zeros; resourceSpans.0.scopeSpans.0.spans.2.name: must not contain NUL (U+0000) characters',
      },
    });
    expect(await storedSpans([good])).toHaveLength(1);

    const protoGood = newSpanId();
    const message = RequestType.decode(
      protobufRequest([{ spanId: protoGood }, { spanId: newSpanId() }]),
    ) as any;
    message.resourceSpans[0].scopeSpans[0].spans[1].spanId = Buffer.alloc(4, 1);
    const proto = await post('/v1/traces', RequestType.encode(message).finish(), {
      'content-type': PROTOBUF,
    });
    expect(proto.status).toBe(200);
    expect(proto.type).toBe(PROTOBUF);
    expect(ResponseType.toObject(ResponseType.decode(proto.bytes), { longs: Number })).toEqual({
      partialSuccess: {
        rejectedSpans: 1,
        errorMessage: 'resourceSpans.0.scopeSpans.0.spans.1.spanId: must be 8 bytes (got 4)',
      },
    });
    expect(await storedSpans([protoGood])).toHaveLength(1);
  });

  it('answers 400 with a google.rpc.Status in the request encoding for a body that cannot be decoded, storing nothing', async () => {
    const before = await countSpans();
    const proto = await post('/v1/traces', Buffer.from('{"resourceSpans": []}'), {
      'content-type': PROTOBUF,
    });
    expect(proto.status).toBe(400);
    expect(proto.type).toBe(PROTOBUF);
    const status = decodeRpcStatus(proto.bytes);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^body: is not a protobuf ExportTraceServiceRequest/);

    const json = await post('/v1/traces', '{"resourceSpans": [', { 'content-type': JSON_TYPE });
    expect(json.status).toBe(400);
    expect(json.type).toMatch(/^application\/json/);
    expect(jsonOf(json.bytes)).toEqual({
      code: 3,
      message: 'body: is not valid JSON',
      error: { code: 'validation_failed', message: 'body: is not valid JSON', field: 'body' },
    });

    const shape = await post('/v1/traces', JSON.stringify({ resourceSpans: [{ scopeSpans: {} }] }), {
      'content-type': JSON_TYPE,
    });
    expect(shape.status).toBe(400);
    expect(jsonOf(shape.bytes).error.field).toBe('resourceSpans.0.scopeSpans');

    const badGzip = await post('/v1/traces', Buffer.from('not gzip at all'), {
      'content-type': PROTOBUF,
      'content-encoding': 'gzip',
    });
    expect(badGzip.status).toBe(400);
    expect(decodeRpcStatus(badGzip.bytes).message).toMatch(/^body: is not valid gzip data/);
    expect(await countSpans()).toBe(before);
  });

  it('answers 415 for another content type or content encoding', async () => {
    const text = await post('/v1/traces', 'spans', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(jsonOf(text.bytes)).toMatchObject({ code: 3, error: { code: 'unsupported_media_type' } });
    const none = await post('/v1/traces', protobufRequest([{}]), {});
    expect(none.status).toBe(415);
    const brotli = await post('/v1/traces', zlib.brotliCompressSync(protobufRequest([{}])), {
      'content-type': PROTOBUF,
      'content-encoding': 'br',
    });
    expect(brotli.status).toBe(415);
    expect(brotli.type).toBe(PROTOBUF);
    expect(decodeRpcStatus(brotli.bytes).message).toBe(
      'Content-Encoding br is not supported (gzip or identity)',
    );
  });

  it('answers 401 without a key or with an unknown one, and 403 for a key without the ingest scope, storing nothing', async () => {
    const before = await countSpans();
    const readKey = await createKey(DEFAULT_PROJECT_ID, ['read']);
    const feedbackKey = await createKey(DEFAULT_PROJECT_ID, ['feedback']);
    for (const path of ['/v1/traces', '/api/otel/v1/traces']) {
      const absent = await post(path, protobufRequest([{}]), { 'content-type': PROTOBUF }, null);
      expect(absent.status).toBe(401);
      expect(absent.type).toBe(PROTOBUF);
      expect(decodeRpcStatus(absent.bytes).code).toBe(16);
      const unknown = await post(
        path,
        JSON.stringify(jsonRequest([{}])),
        { 'content-type': JSON_TYPE },
        generateKeySecret().secret,
      );
      expect(unknown.status).toBe(401);
      expect(jsonOf(unknown.bytes)).toMatchObject({
        code: 16,
        message: 'The API key is unknown or revoked',
        error: { code: 'unauthorized' },
      });
      const malformed = await post(
        path,
        protobufRequest([{}]),
        { 'content-type': PROTOBUF },
        'not-a-merit-key',
      );
      expect(malformed.status).toBe(401);
      for (const key of [readKey, feedbackKey]) {
        const forbidden = await post(path, protobufRequest([{}]), { 'content-type': PROTOBUF }, key);
        expect(forbidden.status).toBe(403);
        expect(decodeRpcStatus(forbidden.bytes)).toEqual({
          code: 7,
          message: 'This API key lacks the "ingest" scope',
        });
      }
    }
    expect(await countSpans()).toBe(before);
  });

  it("stores spans in the key's project", async () => {
    const other = await insertProject(app.ctx.db, { slug: 'otlp-other', name: 'OTLP other' });
    await ensureDefaultData(app.ctx.db, other.id);
    const otherKey = await createKey(other.id, ['ingest']);
    const adminKey = await createKey(DEFAULT_PROJECT_ID, ['admin']);
    const [inOther, inDefault] = [newSpanId(), newSpanId()];
    expect(
      (
        await post(
          '/v1/traces',
          protobufRequest([{ spanId: inOther }]),
          { 'content-type': PROTOBUF },
          otherKey,
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await post(
          '/v1/traces',
          protobufRequest([{ spanId: inDefault }]),
          { 'content-type': PROTOBUF },
          adminKey,
        )
      ).status,
    ).toBe(200);
    expect(await storedSpans([inOther])).toEqual([{ project_id: other.id, span_id: inOther }]);
    expect(await storedSpans([inDefault])).toEqual([{ project_id: DEFAULT_PROJECT_ID, span_id: inDefault }]);
  });

  it('answers 413 above MERIT_OTLP_MAX_BODY_BYTES, declared, streamed, or once decompressed (a gzip bomb)', async () => {
    const before = await countSpans();
    const big = new Uint8Array(MAX_BODY + 1);
    const declared = await post('/v1/traces', big, { 'content-type': PROTOBUF });
    expect(declared.status).toBe(413);
    expect(decodeRpcStatus(declared.bytes)).toEqual({
      code: 8,
      message: `The request body is larger than ${MAX_BODY} bytes`,
    });

    // No Content-Length: the body is counted as it arrives.
    const chunks = [new Uint8Array(40 * 1024), new Uint8Array(40 * 1024)];
    const streamed = await post(
      '/v1/traces',
      new ReadableStream({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        },
      }),
      { 'content-type': PROTOBUF },
    );
    expect(streamed.status).toBe(413);

    // 16 MiB of zeros gzip to about 16 KiB: under the limit compressed, 256 times over it decompressed.
    const bomb = gzip(new Uint8Array(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const exploded = await post('/v1/traces', bomb, { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
    expect(exploded.status).toBe(413);
    expect(decodeRpcStatus(exploded.bytes).message).toBe(
      `The decompressed body is larger than ${MAX_BODY} bytes`,
    );

    // The same under /api (a small gzip that inflates past the limit).
    const underApi = await post('/api/otel/v1/traces', gzip(JSON.stringify({ pad: 'x'.repeat(MAX_BODY) })), {
      'content-type': JSON_TYPE,
      'content-encoding': 'gzip',
    });
    expect(underApi.status).toBe(413);
    expect(jsonOf(underApi.bytes)).toMatchObject({ code: 8, error: { code: 'payload_too_large' } });
    // Under /api the app's MERIT_MAX_BODY_BYTES (smaller here) refuses first, answered as OTLP too.
    const overAppLimit = await post('/api/otel/v1/traces', new Uint8Array(APP_MAX_BODY + 1), {
      'content-type': PROTOBUF,
    });
    expect(overAppLimit.status).toBe(413);
    expect(overAppLimit.type).toBe(PROTOBUF);
    expect(decodeRpcStatus(overAppLimit.bytes)).toEqual({
      code: 8,
      message: `Request body is larger than ${APP_MAX_BODY} bytes`,
    });
    expect(await countSpans()).toBe(before);
  });

  it("answers 429 with Retry-After once a key passes its project's requests per minute", async () => {
    const limited = await insertProject(app.ctx.db, { slug: 'otlp-limited', name: 'OTLP limited' });
    await ensureDefaultData(app.ctx.db, limited.id);
    await app.database.pool.query(
      `UPDATE projects SET settings = '{"rate_limits": {"requests_per_minute": 2}}'::jsonb WHERE id = $1`,
      [limited.id],
    );
    const key = await createKey(limited.id, ['ingest']);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 3; i++) {
      last = await post('/v1/traces', protobufRequest([{}]), { 'content-type': PROTOBUF }, key);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(last?.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(last?.type).toBe(PROTOBUF);
    expect(decodeRpcStatus(last?.bytes ?? new Uint8Array()).code).toBe(8);
  });

  it('answers 503 with Retry-After while MERIT_OTLP_MAX_IN_FLIGHT exports are in progress', async () => {
    const spanId = newSpanId();
    const body = protobufRequest([{ spanId }]);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reading: () => void = () => {};
    const holdingSlot = new Promise<void>((resolve) => {
      reading = resolve;
    });
    let sent = false;
    // The first export's body arrives slowly: it holds the only slot meanwhile.
    const slow = post(
      '/v1/traces',
      new ReadableStream({
        async pull(controller) {
          if (sent) {
            // The route is reading the rest of the body, so it holds the slot.
            reading();
            await held;
            controller.close();
            return;
          }
          sent = true;
          controller.enqueue(body);
        },
      }),
      { 'content-type': PROTOBUF },
    );
    await holdingSlot;
    const refused = await post('/v1/traces', JSON.stringify(jsonRequest([{}])), {
      'content-type': JSON_TYPE,
    });
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('1');
    expect(jsonOf(refused.bytes)).toMatchObject({ code: 14, error: { code: 'service_unavailable' } });
    release();
    expect((await slow).status).toBe(200);
    expect(await storedSpans([spanId])).toHaveLength(1);
    // The slot is free again.
    expect((await post('/v1/traces', protobufRequest([{}]), { 'content-type': PROTOBUF })).status).toBe(200);
  });

  it('describes both routes in the OpenAPI document, with their content types and the ingest permission', async () => {
    const response = await app.app.request('/api/openapi.json');
    const doc = (await response.json()) as { paths: Record<string, any> };
    for (const path of ['/v1/traces', '/api/otel/v1/traces']) {
      const operation = doc.paths[path]?.post;
      expect(operation?.['x-merit-permission']).toBe('ingest');
      expect(Object.keys(operation?.requestBody?.content ?? {}).sort()).toEqual([JSON_TYPE, PROTOBUF]);
      expect(Object.keys(operation?.responses ?? {}).sort()).toEqual([
        '200',
        '400',
        '401',
        '403',
        '413',
        '415',
        '429',
        '503',
      ]);
    }
  });
});

describe('OTLP/HTTP traces endpoint in local mode', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_AUTH: 'local' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('stores spans in the default project with ?user_id=, and names user_id when it is missing, as POST /api/tasks does', async () => {
    const spanId = newSpanId();
    const send = (query: string) =>
      app.app.request(`/v1/traces${query}`, {
        method: 'POST',
        headers: { 'content-type': PROTOBUF },
        body: protobufRequest([{ spanId }]),
      });
    const missing = await send('');
    expect(missing.status).toBe(400);
    expect(decodeRpcStatus(new Uint8Array(await missing.arrayBuffer())).message).toBe(
      'user_id: is required (a UUID query parameter)',
    );
    const tasks = await app.call('POST', '/api/tasks', { agent_id: 'agent_a', command: 'x' }, { user: null });
    expect(tasks.status).toBe(400);
    expect(tasks.body.error.field).toBe('user_id');

    const stored = await send(`?user_id=${USER}`);
    expect(stored.status).toBe(200);
    const { rows } = await app.database.pool.query('SELECT project_id FROM otel_spans WHERE span_id = $1', [
      spanId,
    ]);
    expect(rows).toEqual([{ project_id: DEFAULT_PROJECT_ID }]);
  });

  it('answers 503 with Retry-After when the database is unavailable', async () => {
    const server = inject('databaseServers').find((candidate) => candidate.kind === 'embedded');
    if (!server) throw new Error('no embedded PostgreSQL server');
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE ${admin.escapeIdentifier(app.database.name)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    const response = await app.app.request(`/v1/traces?user_id=${USER}`, {
      method: 'POST',
      headers: { 'content-type': PROTOBUF },
      body: protobufRequest([{}]),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(decodeRpcStatus(new Uint8Array(await response.arrayBuffer())).code).toBe(14);
  });
});
