import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestSpans } from '../../src/otel/otel-ingest.js';
import type { OtlpSpan } from '../../src/otel/otlp-span.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';

const TRACE = 'a'.repeat(32);

function span(overrides: Partial<OtlpSpan> & Pick<OtlpSpan, 'spanId' | 'name'>): OtlpSpan {
  return {
    traceId: TRACE,
    parentSpanId: null,
    kind: 1,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_001_000_000_000n,
    attributes: {},
    resource: { 'service.name': 'weather-service' },
    scope: { name: 'test', version: null },
    events: [],
    status: { code: 0, message: '' },
    ...overrides,
  };
}

describe('OpenTelemetry span ingestion', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('stores a span exported twice once', async () => {
    const spans = [span({ spanId: '1'.repeat(16), name: 'invoke_agent weather' })];
    const first = await ingestSpans(app.ctx, DEFAULT_PROJECT_ID, spans);
    const second = await ingestSpans(app.ctx, DEFAULT_PROJECT_ID, spans);
    expect(first).toEqual({ acceptedSpans: 1, rejectedSpans: 0, errorMessage: '' });
    expect(second.acceptedSpans).toBe(1);
    const rows = await app.ctx.db.selectFrom('otel_spans').select(['span_id', 'role']).execute();
    expect(rows).toEqual([{ span_id: '1'.repeat(16), role: 'agent' }]);
  });

  it('rejects a span with a malformed id, naming it', async () => {
    const result = await ingestSpans(app.ctx, DEFAULT_PROJECT_ID, [span({ spanId: 'xyz', name: 'chat' })]);
    expect(result.rejectedSpans).toBe(1);
    expect(result.errorMessage).toContain('span id');
  });
});
