/**
 * A real HTTP server on 127.0.0.1 that speaks OpenAI chat completions (POST /chat/completions, also
 * /v1/chat/completions) and Anthropic Messages (POST /v1/messages). Each test scripts its replies; they
 * are served in order, then the fallback handler answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeUsage = {
  promptTokens: number;
  completionTokens: number;
  /** Reported as OpenAI's prompt_tokens_details.cached_tokens or Anthropic's cache_read_input_tokens. */
  cachedTokens?: number;
  /** Reported as Anthropic's cache_creation_input_tokens. */
  cacheWriteTokens?: number;
  /** Reported as OpenAI's completion_tokens_details.reasoning_tokens. */
  reasoningTokens?: number;
};

type ReplyExtras = {
  /** Wait this long before answering (to cause client timeouts). */
  delayMs?: number;
  /** Usage figures to report; defaults to DEFAULT_FAKE_USAGE; null answers without any usage. */
  usage?: FakeUsage | null;
  /** Extra response headers, e.g. `{ 'retry-after': '1' }`. */
  headers?: Record<string, string>;
};

/**
 * - `{ json }`: an answer whose content is JSON.stringify(json)
 * - `{ text }`: an answer with this content
 * - `{ malformed: true }`: an answer whose content is not valid JSON
 * - `{ status, body? }`: that HTTP status; `body` is sent raw if a string, as JSON otherwise
 * - `{ reset: true }`: drops the connection without an answer (a connection reset)
 * - `{ delayMs }` alone: answers `{}` after the delay; combine it with any variant above
 */
export type FakeReply =
  | (ReplyExtras &
      (
        | { json: unknown }
        | { text: string }
        | { malformed: true }
        | { status: number; body?: unknown }
        | { reset: true }
      ))
  | (ReplyExtras & { delayMs: number });

export type FakeProtocol = 'openai' | 'anthropic';

export type RecordedRequest = {
  protocol: FakeProtocol;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** When the request arrived (Date.now()), to check waits on the server's side. */
  receivedAt: number;
};

export type FakeLlmServer = {
  baseUrl: string;
  /** Queues replies, served in order to the next requests of either protocol. */
  script(responses: FakeReply[]): void;
  /** Replaces the handler used once the script is empty. */
  setFallback(handler: (request: RecordedRequest) => FakeReply): void;
  /** Forgets unserved scripted replies and recorded requests (call it in beforeEach). */
  reset(): void;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
};

export const DEFAULT_FAKE_USAGE: FakeUsage = { promptTokens: 120, completionTokens: 30 };

export const MALFORMED_CONTENT = '{"accuracy": 0.8, "relevance": ';

const failWhenUnscripted = (): FakeReply => ({
  status: 500,
  body: { error: { message: 'fake LLM server: no scripted reply left', type: 'server_error' } },
});

export async function startFakeLlmServer(
  options: { fallback?: (request: RecordedRequest) => FakeReply } = {},
): Promise<FakeLlmServer> {
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let fallback = options.fallback ?? failWhenUnscripted;
  let counter = 0;

  const server = createServer((req, res) => {
    void handleRequest(req, res);
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const protocol = detectProtocol(req);
    if (protocol === null) {
      sendJson(res, 404, { error: { message: `fake LLM server: no route for ${req.method} ${req.url}` } });
      return;
    }
    const body = parseBody(await readBody(req));
    const recorded: RecordedRequest = {
      protocol,
      path: req.url ?? '',
      headers: req.headers,
      body,
      receivedAt: Date.now(),
    };
    requests.push(recorded);
    const reply = queue.shift() ?? fallback(recorded);
    counter += 1;
    const respond = () => writeReply(res, protocol, reply, body, counter);
    if (reply.delayMs === undefined) {
      respond();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      // The client may have given up (timeout) and closed the socket already.
      if (!res.destroyed) respond();
    }, reply.delayMs);
    timers.add(timer);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    script(responses) {
      queue.push(...responses);
    },
    setFallback(handler) {
      fallback = handler;
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
    },
    requests,
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function detectProtocol(req: IncomingMessage): FakeProtocol | null {
  if (req.method !== 'POST') return null;
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (path === '/chat/completions' || path === '/v1/chat/completions') return 'openai';
  if (path === '/v1/messages') return 'anthropic';
  return null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string): Record<string, unknown> {
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { unparsed: raw };
  }
}

function writeReply(
  res: ServerResponse,
  protocol: FakeProtocol,
  reply: FakeReply,
  requestBody: Record<string, unknown>,
  id: number,
): void {
  if ('reset' in reply) {
    res.socket?.resetAndDestroy();
    return;
  }
  const headers = reply.headers ?? {};
  if ('status' in reply) {
    writeStatusReply(res, protocol, reply.status, reply.body, headers);
    return;
  }
  const content = replyContent(reply);
  const usage = reply.usage === undefined ? DEFAULT_FAKE_USAGE : reply.usage;
  const model = typeof requestBody.model === 'string' ? requestBody.model : 'fake-model';
  const payload =
    protocol === 'openai'
      ? buildOpenAiAnswer(content, usage, model, id)
      : buildAnthropicAnswer(content, usage, model, id);
  sendJson(res, 200, payload, headers);
}

function replyContent(reply: FakeReply): string {
  if ('json' in reply) return JSON.stringify(reply.json);
  if ('text' in reply) return reply.text;
  if ('malformed' in reply) return MALFORMED_CONTENT;
  return '{}';
}

function writeStatusReply(
  res: ServerResponse,
  protocol: FakeProtocol,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  if (typeof body === 'string') {
    res.writeHead(status, { ...headers, 'content-type': 'text/plain' });
    res.end(body);
    return;
  }
  const message = `fake LLM server: scripted HTTP ${status}`;
  const fallbackBody =
    protocol === 'openai'
      ? { error: { message, type: 'fake_error' } }
      : { type: 'error', error: { type: 'fake_error', message } };
  sendJson(res, status, body ?? fallbackBody, headers);
}

function buildOpenAiAnswer(content: string, usage: FakeUsage | null, model: string, id: number): object {
  return {
    id: `chatcmpl-fake-${id}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    ...(usage && {
      usage: {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.promptTokens + usage.completionTokens,
        ...(usage.cachedTokens !== undefined && {
          prompt_tokens_details: { cached_tokens: usage.cachedTokens },
        }),
        ...(usage.reasoningTokens !== undefined && {
          completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
        }),
      },
    }),
  };
}

function buildAnthropicAnswer(content: string, usage: FakeUsage | null, model: string, id: number): object {
  return {
    id: `msg_fake_${id}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: content }],
    stop_reason: 'end_turn',
    // Anthropic's input_tokens leave out the cache reads and writes, reported beside them.
    ...(usage && {
      usage: {
        input_tokens: usage.promptTokens - (usage.cachedTokens ?? 0) - (usage.cacheWriteTokens ?? 0),
        output_tokens: usage.completionTokens,
        ...(usage.cachedTokens !== undefined && { cache_read_input_tokens: usage.cachedTokens }),
        ...(usage.cacheWriteTokens !== undefined && {
          cache_creation_input_tokens: usage.cacheWriteTokens,
        }),
      },
    }),
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
