/**
 * The last outcome of the LLM calls this process made, per model: what the status page shows as each
 * model's connection. In-process only (calls made by another worker process are not seen here).
 * src/llm/provider.ts reports every finished call through `trackLlmCall`.
 */
import { LlmError } from '../errors.js';

export interface LlmModelHealth {
  readonly model: string;
  readonly calls: number;
  readonly failures: number;
  readonly lastOutcome: 'ok' | 'failed';
  readonly lastSuccessAt: Date | null;
  readonly lastFailureAt: Date | null;
  /** The user-facing message of the last failure (never the provider's body or URL). */
  readonly lastError: string | null;
  /** The HTTP status of the last failure, when the provider answered one. */
  readonly lastErrorStatus: number | null;
}

const healthByModel = new Map<string, LlmModelHealth>();

/** Records one finished call of `model` (a success, or its final error after retries). */
export function recordLlmOutcome(
  model: string,
  outcome: { ok: true } | { ok: false; error: unknown },
  at = new Date(),
): void {
  const before = healthByModel.get(model);
  const calls = (before?.calls ?? 0) + 1;
  if (outcome.ok) {
    healthByModel.set(model, {
      model,
      calls,
      failures: before?.failures ?? 0,
      lastOutcome: 'ok',
      lastSuccessAt: at,
      lastFailureAt: before?.lastFailureAt ?? null,
      lastError: before?.lastError ?? null,
      lastErrorStatus: before?.lastErrorStatus ?? null,
    });
    return;
  }
  const error = outcome.error;
  healthByModel.set(model, {
    model,
    calls,
    failures: (before?.failures ?? 0) + 1,
    lastOutcome: 'failed',
    lastSuccessAt: before?.lastSuccessAt ?? null,
    lastFailureAt: at,
    // LLM errors' messages are written to be shown; anything else is named by its kind only.
    lastError: error instanceof LlmError ? error.message : 'the call failed unexpectedly',
    lastErrorStatus: readStatus(error),
  });
}

/**
 * Wraps one call of `model`: its outcome is recorded, its result or error passed on unchanged. A call
 * its caller aborted (a classifier out of budget) says nothing about the connection and is not recorded.
 */
export async function trackLlmCall<T>(
  model: string,
  signal: AbortSignal | undefined,
  call: Promise<T>,
): Promise<T> {
  try {
    const value = await call;
    recordLlmOutcome(model, { ok: true });
    return value;
  } catch (error) {
    if (!signal?.aborted) recordLlmOutcome(model, { ok: false, error });
    throw error;
  }
}

function readStatus(error: unknown): number | null {
  const status = error instanceof LlmError ? (error as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : null;
}

/** Every model called so far in this process. */
export function listLlmHealth(): LlmModelHealth[] {
  return [...healthByModel.values()];
}

/** Forgets every outcome (tests that start from nothing). */
export function clearLlmHealth(): void {
  healthByModel.clear();
}
