import { describe, expect, it } from 'vitest';
import { formatOverallScore } from '../../web/src/lib/format.js';

describe('formatOverallScore', () => {
  it('says "not evaluated" for a task without an overall score, never a number', () => {
    expect(formatOverallScore(null)).toBe('not evaluated');
    expect(formatOverallScore(undefined)).toBe('not evaluated');
  });

  it('shows a known overall score on the 0-100 scale, zero included', () => {
    expect(formatOverallScore(0.78)).toBe('78');
    expect(formatOverallScore(0)).toBe('0');
  });
});
