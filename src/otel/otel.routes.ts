import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import zlib from 'node:zlib';
import { createRoute } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppContext } from '../app-context.js';
import { ServiceUnavailableError } from '../db/errors.js';
import { MeritError, ValidationError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import type { AppEnv } from '../http/app-env.js';
import { authenticate } from '../identity/authenticate.js';
import { ingestSpans } from './otel-ingest.js';
import {
  decodeExportTraceRequest,
  encodeExportTraceResponse,
  encodeRpcStatus,
  type OtlpEncoding,
  summarizeRejections,
} from './otlp-decode.js';

/** OTLP/HTTP's default traces path, and the same under /api (for proxies that forward only /api). */
export const OTLP_TRACES_PATHS = ['/v1/traces', '/api/otel/v1/traces'] as const;

const CONTENT_TYPES: Readonly<Record<string, OtlpEncoding>> = {
  'application/x-protobuf': 'protobuf',
  // Not OTLP's name for it, but some senders use it.
  'application/protobuf': 'protobuf',
  'application/json': 'json',
};
const RESPONSE_CONTENT_TYPE: Readonly<Record<OtlpEncoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** google.rpc.Code of each HTTP status an OTLP route answers (OTLP clients may log it; none acts on it). */
const RPC_CODE_BY_STATUS: Readonly<Record<number, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};

/**
 * Answers every error of the OTLP routes (authentication, rate limits, body limits, decoding, the
 * database) as OTLP says: a google.rpc.Status in the request's encoding (protobuf, or JSON that also
 * keeps Merit's `error` object), with the same status and headers (Retry-After). Register it before
 * the body limit and authentication, so that it wraps them.
 */
export function registerOtlpErrorAnswers(app: MeritApp): void {
  for (const path of OTLP_TRACES_PATHS) app.use(path, answerErrorsAsRpcStatus);
}

const answerErrorsAsRpcStatus: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.res.status < 400) return;
  const type = c.res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/json')) return;
  let body: { error?: { message?: unknown } };
  try {
    body = (await c.res.clone().json()) as { error?: { message?: unknown } };
  } catch {
    return; // Not Merit's error shape: left as it is.
  }
  const message = typeof body.error?.message === 'string' ? body.error.message : 'The request failed';
  const code = RPC_CODE_BY_STATUS[c.res.status] ?? 2; // UNKNOWN
  const headers = new Headers(c.res.headers);
  headers.delete('content-length');
  if (requestEncoding(c) === 'protobuf') {
    headers.set('content-type', RESPONSE_CONTENT_TYPE.protobuf);
    c.res = new Response(new Uint8Array(encodeRpcStatus(code, message)), { status: c.res.status, headers });
    return;
  }
  c.res = new Response(JSON.stringify({ code, message, ...body }), { status: c.res.status, headers });
};

/**
 * `POST /v1/traces` and `POST /api/otel/v1/traces`: OTLP/HTTP trace export (protobuf or JSON, gzip or
 * not) by a key with the `ingest` scope, into the key's project. The body is read within
 * MERIT_OTLP_MAX_BODY_BYTES, compressed and decompressed; at most MERIT_OTLP_MAX_IN_FLIGHT exports are
 * decoded and stored at once in this process (503 with Retry-After beyond).
 */
export function registerOtelRoutes(app: MeritApp, ctx: AppContext): void {
  // /api/* is authenticated by the app; OTLP's own path is not under /api.
  app.use(OTLP_TRACES_PATHS[0], authenticate(ctx));
  let inFlight = 0;
  const handle = async (c: Context<AppEnv>) => {
    const encoding = requestEncoding(c);
    if (encoding === undefined) {
      return answerStatus(c, 'json', 415, {
        code: 'unsupported_media_type',
        message: 'Content-Type must be application/x-protobuf or application/json',
      });
    }
    const contentEncoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (contentEncoding !== 'gzip' && contentEncoding !== 'identity') {
      return answerStatus(c, encoding, 415, {
        code: 'unsupported_media_type',
        message: `Content-Encoding ${contentEncoding} is not supported (gzip or identity)`,
      });
    }
    if (inFlight >= ctx.config.otlp.maxInFlight) {
      throw new ServiceUnavailableError('busy', {
        message: `${ctx.config.otlp.maxInFlight} exports are being stored already; send it again shortly`,
      });
    }
    inFlight++;
    try {
      const limit = ctx.config.otlp.maxBodyBytes;
      const body = await readBodyWithin(c.req.raw, limit, contentEncoding === 'gzip');
      const decoded = decodeExportTraceRequest(body, encoding);
      // Tasks whose spans name no end user (user.id / enduser.id) belong to the caller.
      const principal = c.get('principal');
      const stored =
        decoded.spans.length > 0
          ? await ingestSpans(ctx, principal.projectId, decoded.spans, { userId: principal.userId })
          : { acceptedSpans: 0, rejectedSpans: 0, errorMessage: '' };
      const reasons = [...decoded.rejections];
      if (stored.rejectedSpans > 0) reasons.push(stored.errorMessage);
      const answer = encodeExportTraceResponse(
        {
          rejectedSpans: decoded.rejectedSpans + stored.rejectedSpans,
          errorMessage: summarizeRejections(reasons),
        },
        encoding,
      );
      return c.body(answer as string, 200, { 'content-type': RESPONSE_CONTENT_TYPE[encoding] });
    } finally {
      inFlight--;
    }
  };
  for (const path of OTLP_TRACES_PATHS) app.openapi(describeTracesRoute(path), handle);
}

/** The request's encoding from its Content-Type (parameters such as charset ignored); undefined if neither. */
function requestEncoding(c: Context<AppEnv>): OtlpEncoding | undefined {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return CONTENT_TYPES[type];
}

/** An error answered by the handler itself (its code has no MeritError), in the request's encoding. */
function answerStatus(
  c: Context<AppEnv>,
  encoding: OtlpEncoding,
  status: 415,
  error: { code: string; message: string },
): Response {
  const code = RPC_CODE_BY_STATUS[status] ?? 2;
  if (encoding === 'protobuf')
    return c.body(encodeRpcStatus(code, error.message) as unknown as string, status, {
      'content-type': RESPONSE_CONTENT_TYPE.protobuf,
    });
  return c.json({ code, message: error.message, error }, status);
}

function payloadTooLarge(limit: number, what: string): MeritError {
  return new MeritError('payload_too_large', `The ${what} body is larger than ${limit} bytes`, {
    details: { field: 'body' },
  });
}

/**
 * The request body, gunzipped as it arrives when `gzip`: refused (413) as soon as the received bytes or
 * the decompressed ones pass `limit`, so neither is ever buffered past it (a gzip bomb stops there).
 */
async function readBodyWithin(request: Request, limit: number, gzip: boolean): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw payloadTooLarge(limit, 'request');
  if (!request.body) return new Uint8Array(0);
  let received = 0;
  // The first refusal: pipeline may reject with the abort it caused in another stage instead.
  let refusal: MeritError | undefined;
  const countReceived = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > limit) refusal ??= payloadTooLarge(limit, 'request');
      done(refusal ?? null, chunk);
    },
  });
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = async (output: AsyncIterable<Buffer>) => {
    for await (const chunk of output) {
      size += chunk.length;
      if (size > limit) {
        refusal ??= payloadTooLarge(limit, gzip ? 'decompressed' : 'request');
        throw refusal;
      }
      chunks.push(chunk);
    }
  };
  const source = Readable.fromWeb(request.body as WebReadableStream<Uint8Array>);
  try {
    if (gzip) await pipeline(source, countReceived, zlib.createGunzip(), collect);
    else await pipeline(source, countReceived, collect);
  } catch (error) {
    if (refusal) throw refusal;
    // zlib's errors (Z_DATA_ERROR, a truncated stream): the body itself is wrong.
    if (
      gzip &&
      typeof (error as { code?: unknown }).code === 'string' &&
      (error as { code: string }).code.startsWith('Z_')
    )
      throw new ValidationError('body', 'is not valid gzip data (Content-Encoding: gzip)', { cause: error });
    throw error;
  }
  return Buffer.concat(chunks, size);
}

const binaryBody = { schema: { type: 'string' as const, format: 'binary' } };

const statusJson = {
  schema: {
    type: 'object' as const,
    description:
      'google.rpc.Status in the OTLP JSON encoding (`code`, `message`), with Merit\'s `error` object ({ "code", "message", "field" }) beside it',
    properties: {
      code: { type: 'integer' as const, description: 'google.rpc.Code' },
      message: { type: 'string' as const },
      error: {
        type: 'object' as const,
        properties: {
          code: { type: 'string' as const },
          message: { type: 'string' as const },
          field: { type: 'string' as const },
        },
      },
    },
  },
};

const statusContent = {
  'application/x-protobuf': { schema: { ...binaryBody.schema, description: 'google.rpc.Status (protobuf)' } },
  'application/json': statusJson,
};

function describeTracesRoute(path: string) {
  return createRoute({
    method: 'post',
    path,
    tags: ['OpenTelemetry'],
    summary: 'Export traces (OTLP/HTTP)',
    description: [
      'OTLP/HTTP trace export (https://opentelemetry.io/docs/specs/otlp/#otlphttp): an ExportTraceServiceRequest',
      'as `application/x-protobuf` or `application/json` (OTLP JSON: hex trace and span ids, integer enums,',
      "int64 as strings), optionally with `Content-Encoding: gzip`. The answer is in the request's encoding.",
      'Spans that break a rule are rejected and counted in `partial_success`; the rest are stored, idempotently',
      'by trace and span id, in the project of the API key (`Authorization: Bearer merit_...`, with the',
      '`ingest` scope; OTLP exporters send it from OTEL_EXPORTER_OTLP_HEADERS). The body may hold',
      "MERIT_OTLP_MAX_BODY_BYTES, compressed and decompressed. Errors are google.rpc.Status in the request's",
      'encoding. The body is validated by the decoder, not by a JSON schema: see docs/OTEL.md.',
    ].join(' '),
    request: {
      body: {
        required: true,
        content: {
          'application/x-protobuf': {
            schema: {
              ...binaryBody.schema,
              description: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest (protobuf)',
            },
          },
          'application/json': {
            schema: {
              type: 'object',
              description:
                'ExportTraceServiceRequest in the OTLP JSON encoding: `resourceSpans[].scopeSpans[].spans[]`',
              additionalProperties: true,
            },
          },
        },
      },
    },
    responses: {
      200: {
        description:
          'Accepted; `partialSuccess` ({ rejectedSpans, errorMessage }) when some spans were rejected',
        content: {
          'application/x-protobuf': {
            schema: { ...binaryBody.schema, description: 'ExportTraceServiceResponse (protobuf)' },
          },
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                partialSuccess: {
                  type: 'object',
                  properties: {
                    rejectedSpans: { type: 'string', description: 'int64, as a decimal string' },
                    errorMessage: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
      400: { description: 'The body cannot be decoded (not retryable)', content: statusContent },
      401: { description: 'No API key, or an unknown or revoked one', content: statusContent },
      403: { description: 'The key lacks the ingest scope', content: statusContent },
      413: { description: 'The body, compressed or decompressed, is over the limit', content: statusContent },
      415: { description: 'Unsupported Content-Type or Content-Encoding', content: statusContent },
      429: { description: 'The key is over its requests per minute (Retry-After)', content: statusContent },
      503: {
        description: 'Too many exports in progress, or the database is unavailable (Retry-After)',
        content: statusContent,
      },
    },
  });
}
