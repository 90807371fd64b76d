/** Keyboard and validation rules of the task feedback widget, kept free of React so they can be tested. */

export const MIN_RATING = 1;
export const MAX_RATING = 5;
export const MAX_FEEDBACK_LENGTH = 2000;

export function isValidRating(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= MIN_RATING && value <= MAX_RATING;
}

/**
 * The rating a key press on the stars selects: digits 1-5 pick directly, arrows step (clamped, starting
 * from the first star), Home/End jump. Null when the key means nothing to the stars.
 */
export function ratingForKey(key: string, current: number | null): number | null {
  if (/^[1-5]$/.test(key)) return Number(key);
  switch (key) {
    case 'ArrowRight':
    case 'ArrowUp':
      return current === null ? MIN_RATING : Math.min(MAX_RATING, current + 1);
    case 'ArrowLeft':
    case 'ArrowDown':
      return current === null ? MIN_RATING : Math.max(MIN_RATING, current - 1);
    case 'Home':
      return MIN_RATING;
    case 'End':
      return MAX_RATING;
    default:
      return null;
  }
}

export type KeyAction = 'submit' | 'newline' | 'dismiss' | 'none';

export interface KeyInput {
  key: string;
  shiftKey: boolean;
  /** True while an IME is composing text: Enter then confirms the composition, it must not submit. */
  isComposing: boolean;
}

/** What a key press inside the comment box does. */
export function actionForTextareaKey({ key, shiftKey, isComposing }: KeyInput): KeyAction {
  if (isComposing) return 'none';
  if (key === 'Escape') return 'dismiss';
  if (key === 'Enter') return shiftKey ? 'newline' : 'submit';
  return 'none';
}

/** Why the current input cannot be sent, or null when it can. */
export function validateFeedback(rating: number | null, feedback: string): string | null {
  if (!isValidRating(rating)) return 'Choose a rating from 1 to 5 stars.';
  if (feedback.trim().length > MAX_FEEDBACK_LENGTH) {
    return `Feedback is limited to ${MAX_FEEDBACK_LENGTH} characters.`;
  }
  return null;
}

export type SubmitState =
  | { kind: 'idle' }
  | { kind: 'submitting' }
  | { kind: 'success'; message: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'failed'; message: string };

export interface StatusMessage {
  text: string;
  /** `alert` interrupts a screen reader (errors); `status` is announced politely. */
  role: 'alert' | 'status';
  tone: 'error' | 'success' | 'info';
}

/** Which message, if any, the widget shows for its submit state. */
export function describeSubmitState(state: SubmitState): StatusMessage | null {
  switch (state.kind) {
    case 'idle':
      return null;
    case 'submitting':
      return { text: 'Sending…', role: 'status', tone: 'info' };
    case 'success':
      return { text: state.message, role: 'status', tone: 'success' };
    case 'invalid':
    case 'failed':
      return state.message.trim() === ''
        ? { text: 'Feedback could not be saved.', role: 'alert', tone: 'error' }
        : { text: state.message, role: 'alert', tone: 'error' };
  }
}

export function describeRating(rating: number): string {
  return `${rating} star${rating === 1 ? '' : 's'}`;
}

/** The trimmed comment to send, or undefined when the box is empty. */
export function normalizeFeedback(feedback: string): string | undefined {
  const trimmed = feedback.trim();
  return trimmed === '' ? undefined : trimmed;
}
