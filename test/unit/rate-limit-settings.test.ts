import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { computeRetryAfterSeconds, resolveRateLimits } from '../../src/identity/rate-limits.js';

const DEFAULTS = { requestsPerMinute: 600, commandsPerMinute: 30, llmSpendPerDayUsd: 5 };

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  return undefined;
}

describe('resolveRateLimits', () => {
  it('takes the defaults when a project overrides nothing', () => {
    expect(resolveRateLimits({}, DEFAULTS)).toEqual(DEFAULTS);
    expect(resolveRateLimits({ theme: 'dark' }, DEFAULTS)).toEqual(DEFAULTS);
    expect(resolveRateLimits({ rate_limits: {} }, DEFAULTS)).toEqual(DEFAULTS);
  });

  it("takes each of a project's overrides over its default, fractions of a dollar included", () => {
    expect(
      resolveRateLimits({ rate_limits: { commands_per_minute: 0, llm_spend_per_day_usd: 0.25 } }, DEFAULTS),
    ).toEqual({ requestsPerMinute: 600, commandsPerMinute: 0, llmSpendPerDayUsd: 0.25 });
    expect(resolveRateLimits({ rate_limits: { requests_per_minute: 60 } }, DEFAULTS).requestsPerMinute).toBe(
      60,
    );
  });

  it('refuses settings that break a rule, naming the field', () => {
    expect(fieldOf(() => resolveRateLimits({ rate_limits: { requests_per_minute: 0 } }, DEFAULTS))).toBe(
      'settings.rate_limits.requests_per_minute',
    );
    expect(fieldOf(() => resolveRateLimits({ rate_limits: { commands_per_minute: 1.5 } }, DEFAULTS))).toBe(
      'settings.rate_limits.commands_per_minute',
    );
    expect(fieldOf(() => resolveRateLimits({ rate_limits: { llm_spend_per_day_usd: -1 } }, DEFAULTS))).toBe(
      'settings.rate_limits.llm_spend_per_day_usd',
    );
    expect(fieldOf(() => resolveRateLimits({ rate_limits: { llm_spend_per_day_usd: '5' } }, DEFAULTS))).toBe(
      'settings.rate_limits.llm_spend_per_day_usd',
    );
    // A misspelt limit would silently keep the default: refused.
    expect(fieldOf(() => resolveRateLimits({ rate_limits: { request_per_minute: 5 } }, DEFAULTS))).toBe(
      'settings.rate_limits',
    );
    expect(fieldOf(() => resolveRateLimits({ rate_limits: 100 }, DEFAULTS))).toBe('settings.rate_limits');
    expect(fieldOf(() => resolveRateLimits(null, DEFAULTS))).toBe('settings');
  });
});

describe('computeRetryAfterSeconds', () => {
  it('waits for the previous window to slide out when the current one has room', () => {
    // 3 * (60 - t) / 60 + 1 + 1 <= 3 from t = 40: 19 s after 21 s.
    const usage = { elapsedSeconds: 21, previousAmount: 3, currentAmount: 1 };
    expect(computeRetryAfterSeconds(usage, 60, 1, 3)).toBe(19);
  });

  it('waits into the next window when the current one is full', () => {
    // The 3 of this window carry into the next: 3 * (60 - t) / 60 + 1 <= 3 from t = 20.
    const usage = { elapsedSeconds: 10, previousAmount: 0, currentAmount: 3 };
    expect(computeRetryAfterSeconds(usage, 60, 1, 3)).toBe(70);
  });

  it('answers at least one second, and the time to an empty bucket for a request over the limit', () => {
    expect(
      computeRetryAfterSeconds({ elapsedSeconds: 59.9999, previousAmount: 0, currentAmount: 2 }, 60, 1, 2),
    ).toBe(31);
    expect(
      computeRetryAfterSeconds({ elapsedSeconds: 39.99999, previousAmount: 3, currentAmount: 1 }, 60, 1, 3),
    ).toBe(1);
    expect(
      computeRetryAfterSeconds({ elapsedSeconds: 10, previousAmount: 0, currentAmount: 0 }, 60, 5, 3),
    ).toBe(110);
  });

  it('waits, for a check, until usage is strictly below the limit', () => {
    // 1.25 * (1 - t / 100) < 1 from just after t = 20.
    const usage = { elapsedSeconds: 0, previousAmount: 0, currentAmount: 1.25 };
    expect(computeRetryAfterSeconds(usage, 100, 0, 1)).toBe(121);
  });
});
