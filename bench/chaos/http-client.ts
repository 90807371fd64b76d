import http from 'node:http';

/** What one request came to: an HTTP status, no answer within the bound, or a connection error. */
export type Outcome =
  | {
      kind: 'status';
      status: number;
      body: string;
      contentType: string;
      retryAfter: string | undefined;
      ms: number;
    }
  | { kind: 'hang'; ms: number }
  | { kind: 'error'; code: string; ms: number };

export interface RequestSpec {
  method: string;
  /** Path and query, already encoded (the fuzzer sends deliberately odd ones). */
  path: string;
  /** An object is sent as JSON; a string is sent as it is (bad JSON on purpose). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Keep the whole answer (a document to parse), not only its first MAX_BODY_KEPT bytes. */
  wholeBody?: boolean;
}

/** A request and its outcome, kept as a sample for the report. */
export interface Sample {
  method: string;
  path: string;
  /** The start of the request body, to reproduce it. */
  body?: string;
  outcome: string;
}

const MAX_SAMPLES = 8;
const UNSENT = 'unsent';
const MAX_BODY_KEPT = 4096;

/** Counts outcomes by status code ('hang' and 'conn' for requests without an answer). */
export class StatusTally {
  readonly counts = new Map<string, number>();
  readonly samples500: Sample[] = [];
  readonly hangSamples: Sample[] = [];
  /** Requests whose connection was refused or dropped instead of answered. */
  readonly connectionSamples: Sample[] = [];
  /** Error answers (4xx/5xx) whose body is not the JSON `{"error": {"code", "message"}}` shape. */
  readonly badErrorBodies: Sample[] = [];
  badErrorBodyCount = 0;
  sent = 0;
  /** Requests Node itself refused to put on the wire (not sent, not counted). */
  unsent = 0;
  /** 503 answers without a Retry-After header (a client cannot tell when to come back). */
  unavailableWithoutRetryAfter = 0;

  record(spec: RequestSpec, outcome: Outcome): void {
    if (outcome.kind === 'error' && outcome.code === UNSENT) {
      this.unsent++;
      return;
    }
    this.sent++;
    const key =
      outcome.kind === 'status' ? String(outcome.status) : outcome.kind === 'hang' ? 'hang' : 'conn';
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const sample = (): Sample => ({
      method: spec.method,
      path: spec.path.slice(0, 200),
      ...(spec.body === undefined
        ? {}
        : { body: (typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body)).slice(0, 300) }),
      outcome: describe(outcome),
    });
    if (outcome.kind === 'hang' && this.hangSamples.length < MAX_SAMPLES) this.hangSamples.push(sample());
    if (outcome.kind === 'error' && this.connectionSamples.length < MAX_SAMPLES)
      this.connectionSamples.push(sample());
    if (outcome.kind !== 'status' || outcome.status < 400) return;
    if (outcome.status === 503 && outcome.retryAfter === undefined) this.unavailableWithoutRetryAfter++;
    if (outcome.status === 500 && this.samples500.length < MAX_SAMPLES) this.samples500.push(sample());
    if (!hasErrorShape(outcome)) {
      this.badErrorBodyCount++;
      if (this.badErrorBodies.length < MAX_SAMPLES) this.badErrorBodies.push(sample());
    }
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  countWhere(predicate: (key: string) => boolean): number {
    let total = 0;
    for (const [key, value] of this.counts) if (predicate(key)) total += value;
    return total;
  }

  /** "200:512 201:88 400:3 hang:2", codes in order. */
  describe(): string {
    return [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}:${value}`)
      .join(' ');
  }
}

function hasErrorShape(outcome: Extract<Outcome, { kind: 'status' }>): boolean {
  if (!outcome.contentType.includes('application/json')) return false;
  try {
    const parsed = JSON.parse(outcome.body) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error?.message === 'string';
  } catch {
    return false;
  }
}

function describe(outcome: Outcome): string {
  if (outcome.kind === 'hang') return `no answer within ${Math.round(outcome.ms)} ms`;
  if (outcome.kind === 'error') return `connection error ${outcome.code}`;
  return `${outcome.status} ${outcome.contentType.split(';')[0]} ${outcome.body.slice(0, 300)}`;
}

/**
 * Bounded HTTP requests to one Merit on loopback: every request gets an answer, a connection error, or
 * is counted as a hang after `hangMs`. Each outcome is tallied.
 */
export class ChaosClient {
  readonly agent: http.Agent;
  readonly tally = new StatusTally();

  constructor(
    readonly port: number,
    readonly hangMs: number,
    options: { keepAlive?: boolean; maxSockets?: number } = {},
  ) {
    this.agent = new http.Agent({
      keepAlive: options.keepAlive ?? true,
      maxSockets: options.maxSockets ?? 1200,
      maxFreeSockets: 256,
    });
  }

  async send(spec: RequestSpec, options: { timeoutMs?: number } = {}): Promise<Outcome> {
    const outcome = await this.sendUntallied(spec, options.timeoutMs ?? this.hangMs);
    this.tally.record(spec, outcome);
    return outcome;
  }

  /** Sends and parses a 2xx JSON answer; undefined for anything else. */
  async sendJson<T>(spec: RequestSpec): Promise<{ outcome: Outcome; json: T | undefined }> {
    // A JSON answer is parsed whole: one longer than a socket chunk must not be cut.
    const outcome = await this.send({ ...spec, wholeBody: true });
    if (outcome.kind !== 'status' || outcome.status < 200 || outcome.status > 299)
      return { outcome, json: undefined };
    try {
      return { outcome, json: JSON.parse(outcome.body) as T };
    } catch {
      return { outcome, json: undefined };
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private sendUntallied(spec: RequestSpec, timeoutMs: number): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const payload =
      spec.body === undefined
        ? undefined
        : Buffer.from(typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body));
    const headers: Record<string, string> = {
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      ...spec.headers,
    };
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      let request: http.ClientRequest;
      try {
        request = http.request(
          {
            agent: this.agent,
            host: '127.0.0.1',
            port: this.port,
            method: spec.method,
            path: spec.path,
            headers,
          },
          (response) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            response.on('data', (chunk: Buffer) => {
              if (spec.wholeBody || kept < MAX_BODY_KEPT) chunks.push(chunk);
              kept += chunk.length;
            });
            response.on('end', () =>
              settle({
                kind: 'status',
                status: response.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
                contentType: String(response.headers['content-type'] ?? ''),
                retryAfter: response.headers['retry-after'],
                ms: elapsed(),
              }),
            );
            response.on('error', (error: NodeJS.ErrnoException) =>
              settle({ kind: 'error', code: error.code ?? error.message, ms: elapsed() }),
            );
          },
        );
      } catch {
        // Node refuses some paths before sending (characters it will not put on the wire).
        resolve({ kind: 'error', code: UNSENT, ms: 0 });
        return;
      }
      const timer = setTimeout(() => {
        settle({ kind: 'hang', ms: elapsed() });
        request.destroy();
      }, timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) =>
        settle({ kind: 'error', code: error.code ?? error.message, ms: elapsed() }),
      );
      request.end(payload);
    });
  }
}
