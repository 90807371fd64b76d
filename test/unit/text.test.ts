import { describe, expect, it } from 'vitest';
import { stemWord, tokenizeWords } from '../../src/lib/text.js';

describe('stemWord', () => {
  it('stems inflections to a shared root', () => {
    expect(['computing', 'computers', 'computed', 'compute'].map(stemWord)).toEqual([
      'comput',
      'comput',
      'comput',
      'comput',
    ]);
    expect(stemWord('studies')).toBe('study');
    expect(stemWord('planning')).toBe(stemWord('plan'));
    expect(stemWord('issues')).toBe(stemWord('issue'));
  });

  it('gives British and American spellings one stem', () => {
    expect(stemWord('analyse')).toBe(stemWord('analyze'));
    expect(stemWord('analysis')).toBe(stemWord('analyzing'));
  });

  it('leaves words that only look inflected alone', () => {
    expect(stemWord('status')).toBe('status');
    expect(stemWord('class')).toBe('class');
    expect(stemWord('bed')).toBe('bed');
  });
});

describe('tokenizeWords', () => {
  it('keeps content words, lower-cased, without @mentions and stop words', () => {
    expect(tokenizeWords('@bob Research the Quantum computing of Café-qubits!')).toEqual([
      'research',
      'quantum',
      'computing',
      'café',
      'qubits',
    ]);
  });
});
