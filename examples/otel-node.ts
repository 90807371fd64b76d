/**
 * A plain OpenTelemetry Node setup exporting GenAI spans to Merit's OTLP endpoint: one agent run as an
 * `invoke_agent` span with a `chat` model call and an `execute_tool` call under it, the shape Pydantic AI,
 * OpenLLMetry and the OpenAI Agents SDK bridge emit. Merit turns it into a task with two nodes.
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:8000 \
 *   OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer merit_..." \
 *   npx tsx examples/otel-node.ts
 *
 * The key needs the `ingest` scope (`npx merit keys create --project default --scopes ingest --name otel`). The exporter adds
 * `/v1/traces` to the endpoint and sends protobuf (use @opentelemetry/exporter-trace-otlp-http for JSON).
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT || !process.env.OTEL_EXPORTER_OTLP_HEADERS) {
  console.error(
    'Set OTEL_EXPORTER_OTLP_ENDPOINT (your Merit) and OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer merit_..."',
  );
  process.exit(2);
}

// The exporter reads the endpoint, headers and compression from the standard OTEL_EXPORTER_OTLP_* variables.
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'flight-assistant' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
const tracer = provider.getTracer('merit-example', '1.0.0');

const agent = tracer.startSpan('invoke_agent flight_agent', {
  kind: SpanKind.INTERNAL,
  attributes: {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'flight_agent',
    'gen_ai.conversation.id': `conversation-${Date.now()}`,
    'gen_ai.input.messages': JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'Find me a morning flight to Lisbon' }] },
    ]),
  },
});
const inAgent = trace.setSpan(context.active(), agent);

const chat = tracer.startSpan(
  'chat gpt-4o-mini',
  {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 412,
      'gen_ai.usage.output_tokens': 57,
    },
  },
  inAgent,
);
await new Promise((resolve) => setTimeout(resolve, 120));
chat.end();

const tool = tracer.startSpan(
  'execute_tool search_flights',
  {
    kind: SpanKind.INTERNAL,
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search_flights',
      'gen_ai.tool.call.id': 'call_1',
    },
  },
  inAgent,
);
await new Promise((resolve) => setTimeout(resolve, 80));
tool.end();

agent.setAttribute(
  'gen_ai.output.messages',
  JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'TP 1234 leaves at 9:05.' }] }]),
);
agent.setStatus({ code: SpanStatusCode.OK });
agent.end();

// Sends what the batch processor holds before the process ends.
await provider.shutdown();
console.log(
  `Exported trace ${agent.spanContext().traceId} to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`,
);
