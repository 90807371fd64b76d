import { describe, expect, it } from 'vitest';
import {
  actionForTextareaKey,
  describeSubmitState,
  isValidRating,
  MAX_FEEDBACK_LENGTH,
  normalizeFeedback,
  ratingForKey,
  validateFeedback,
} from '../../web/src/features/feedback/feedback-rules.js';

describe('actionForTextareaKey', () => {
  it('submits on Enter and inserts a newline on Shift+Enter', () => {
    expect(actionForTextareaKey({ key: 'Enter', shiftKey: false, isComposing: false })).toBe('submit');
    expect(actionForTextareaKey({ key: 'Enter', shiftKey: true, isComposing: false })).toBe('newline');
  });

  it('does nothing on Enter while an input method is composing', () => {
    expect(actionForTextareaKey({ key: 'Enter', shiftKey: false, isComposing: true })).toBe('none');
  });

  it('dismisses on Escape and ignores ordinary keys', () => {
    expect(actionForTextareaKey({ key: 'Escape', shiftKey: false, isComposing: false })).toBe('dismiss');
    expect(actionForTextareaKey({ key: 'a', shiftKey: false, isComposing: false })).toBe('none');
    expect(actionForTextareaKey({ key: '3', shiftKey: false, isComposing: false })).toBe('none');
  });
});

describe('ratingForKey', () => {
  it('maps the digits 1 to 5 to that rating and no other digit', () => {
    expect([1, 2, 3, 4, 5].map((digit) => ratingForKey(String(digit), null))).toEqual([1, 2, 3, 4, 5]);
    expect(ratingForKey('0', 3)).toBeNull();
    expect(ratingForKey('6', 3)).toBeNull();
    expect(ratingForKey('9', null)).toBeNull();
  });

  it('steps with the arrow keys and stays within 1 to 5', () => {
    expect(ratingForKey('ArrowRight', 3)).toBe(4);
    expect(ratingForKey('ArrowRight', 5)).toBe(5);
    expect(ratingForKey('ArrowLeft', 3)).toBe(2);
    expect(ratingForKey('ArrowLeft', 1)).toBe(1);
    expect(ratingForKey('ArrowUp', 2)).toBe(3);
    expect(ratingForKey('ArrowDown', 2)).toBe(1);
  });

  it('starts at the first star when nothing is chosen yet', () => {
    expect(ratingForKey('ArrowRight', null)).toBe(1);
    expect(ratingForKey('ArrowLeft', null)).toBe(1);
  });

  it('jumps to the ends with Home and End and ignores other keys', () => {
    expect(ratingForKey('Home', 4)).toBe(1);
    expect(ratingForKey('End', 2)).toBe(5);
    expect(ratingForKey('Enter', 2)).toBeNull();
    expect(ratingForKey('x', 2)).toBeNull();
  });
});

describe('validateFeedback', () => {
  it('accepts only whole ratings from 1 to 5', () => {
    expect(isValidRating(1)).toBe(true);
    expect(isValidRating(5)).toBe(true);
    expect(isValidRating(0)).toBe(false);
    expect(isValidRating(6)).toBe(false);
    expect(isValidRating(2.5)).toBe(false);
    expect(isValidRating('3')).toBe(false);
    expect(isValidRating(null)).toBe(false);
  });

  it('asks for a rating before sending', () => {
    expect(validateFeedback(null, 'nice')).toMatch(/rating/);
    expect(validateFeedback(4, '')).toBeNull();
  });

  it('rejects a comment longer than the limit', () => {
    expect(validateFeedback(4, 'x'.repeat(MAX_FEEDBACK_LENGTH))).toBeNull();
    expect(validateFeedback(4, 'x'.repeat(MAX_FEEDBACK_LENGTH + 1))).toMatch(/limited/);
  });

  it('sends no comment when the box holds only whitespace', () => {
    expect(normalizeFeedback('  \n ')).toBeUndefined();
    expect(normalizeFeedback('  good work \n')).toBe('good work');
  });
});

describe('describeSubmitState', () => {
  it('shows nothing while idle', () => {
    expect(describeSubmitState({ kind: 'idle' })).toBeNull();
  });

  it('shows the server message of a failure as an alert', () => {
    expect(describeSubmitState({ kind: 'failed', message: 'Task is not completed yet' })).toEqual({
      text: 'Task is not completed yet',
      role: 'alert',
      tone: 'error',
    });
  });

  it('falls back to a generic alert when a failure carries no message', () => {
    expect(describeSubmitState({ kind: 'failed', message: '  ' })).toMatchObject({
      role: 'alert',
      tone: 'error',
    });
  });

  it('announces success and progress politely', () => {
    expect(describeSubmitState({ kind: 'success', message: 'Feedback submitted successfully' })).toEqual({
      text: 'Feedback submitted successfully',
      role: 'status',
      tone: 'success',
    });
    expect(describeSubmitState({ kind: 'submitting' })?.role).toBe('status');
  });

  it('shows a validation problem as an alert', () => {
    expect(describeSubmitState({ kind: 'invalid', message: 'Choose a rating' })?.role).toBe('alert');
  });
});
