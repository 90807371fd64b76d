/**
 * Merit's task feedback widget for host apps (`merit/widget`): the seed's TaskFeedbackWidget (five stars,
 * an optional comment, Enter submits, Escape or × dismisses) posting the rating straight to Merit with a
 * `feedback`-scope key. React is the host's own (a peer dependency); the script-tag bundle brings its own.
 */
import { type KeyboardEvent, useId, useLayoutEffect, useRef, useState } from 'react';
import {
  actionForTextareaKey,
  describeRating,
  describeSubmitState,
  MAX_FEEDBACK_LENGTH,
  MAX_RATING,
  normalizeFeedback,
  ratingForKey,
  type SubmitState,
  validateFeedback,
} from '../src/features/feedback/feedback-rules.js';
import { postFeedback } from './feedback-request.js';
import { WIDGET_CSS } from './widget-styles.js';

const RATING_WORDS = ['Poor', 'Fair', 'Good', 'Very good', 'Excellent'];
const STARS = Array.from({ length: MAX_RATING }, (_, index) => index + 1);

export interface MeritFeedbackWidgetProps {
  /** The Merit task being rated (the id the SDK's `task.id` gives, or a task created through the API). */
  taskId: string;
  /** Where Merit listens, e.g. `https://merit.example.com`. */
  baseUrl: string;
  /** A key with the `feedback` scope whose allowed origins include this page's origin. */
  apiKey: string;
  /** The end user giving the rating, any string id (optional). */
  userId?: string;
  /** The question above the stars. */
  title?: string;
  /** Called after Merit saved the rating. */
  onRated?: (rating: number, feedback: string | null) => void;
  /** Called when the user dismisses the widget without rating. */
  onDismiss?: () => void;
  /** Left out to skip the built-in styles (the host styles the `merit-fb-*` classes itself). */
  unstyled?: boolean;
}

type Mode = 'editing' | 'rated' | 'dismissed';

export function MeritFeedbackWidget({
  taskId,
  baseUrl,
  apiKey,
  userId,
  title = 'How good was this result?',
  onRated,
  onDismiss,
  unstyled = false,
}: MeritFeedbackWidgetProps) {
  const [mode, setMode] = useState<Mode>('editing');
  const [savedRating, setSavedRating] = useState<number | null>(null);
  const [savedFeedback, setSavedFeedback] = useState<string | null>(null);
  const [rating, setRating] = useState<number | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const [feedback, setFeedback] = useState('');
  const [submit, setSubmit] = useState<SubmitState>({ kind: 'idle' });
  const starRefs = useRef<(HTMLInputElement | null)[]>([]);
  const reopenRef = useRef<HTMLButtonElement | null>(null);
  const baseId = useId();
  // Where focus goes after the widget switches mode, so keyboard users are not dropped to the page start.
  const focusAfterSwitch = useRef<'stars' | 'reopen' | null>(null);

  useLayoutEffect(() => {
    const target = focusAfterSwitch.current;
    focusAfterSwitch.current = null;
    if (target === 'reopen') reopenRef.current?.focus();
    if (target === 'stars') (starRefs.current[(rating ?? 1) - 1] ?? starRefs.current[0])?.focus();
  });

  const shown = hover ?? rating;
  const message = describeSubmitState(submit);
  const style = unstyled ? null : <style>{WIDGET_CSS}</style>;

  const selectRating = (value: number, focus: boolean) => {
    setRating(value);
    if (submit.kind === 'invalid') setSubmit({ kind: 'idle' });
    if (focus) starRefs.current[value - 1]?.focus();
  };

  const send = async () => {
    if (submit.kind === 'submitting') return;
    const invalid = validateFeedback(rating, feedback);
    if (invalid !== null || rating === null) {
      setSubmit({ kind: 'invalid', message: invalid ?? 'Choose a rating from 1 to 5 stars.' });
      return;
    }
    const comment = normalizeFeedback(feedback);
    setSubmit({ kind: 'submitting' });
    try {
      const saved = await postFeedback({ baseUrl, apiKey, taskId, userId }, rating, comment);
      setSavedRating(rating);
      setSavedFeedback(comment ?? null);
      setSubmit({ kind: 'success', message: saved });
      setMode('rated');
      onRated?.(rating, comment ?? null);
      focusAfterSwitch.current = 'reopen';
    } catch (error) {
      setSubmit({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  };

  const dismiss = () => {
    setHover(null);
    setSubmit({ kind: 'idle' });
    setRating(savedRating);
    setFeedback(savedFeedback ?? '');
    setMode(savedRating === null ? 'dismissed' : 'rated');
    focusAfterSwitch.current = 'reopen';
    if (savedRating === null) onDismiss?.();
  };

  const reopen = () => {
    setSubmit({ kind: 'idle' });
    setMode('editing');
    focusAfterSwitch.current = 'stars';
  };

  const onWidgetKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (mode !== 'editing') return;
    if (event.key === 'Escape') {
      event.preventDefault();
      dismiss();
      return;
    }
    const target = event.target as HTMLElement;
    if (target.tagName === 'TEXTAREA') return;
    const inStars = target.tagName === 'INPUT' && (target as HTMLInputElement).type === 'radio';
    if (event.key === 'Enter' && inStars) {
      event.preventDefault();
      void send();
      return;
    }
    // Digits pick a rating from anywhere in the widget; arrows and Home/End move within the stars (clamped).
    if (!inStars && !/^[1-5]$/.test(event.key)) return;
    const next = ratingForKey(event.key, rating);
    if (next !== null) {
      event.preventDefault();
      selectRating(next, true);
    }
  };

  const onTextareaKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    const action = actionForTextareaKey({
      key: event.key,
      shiftKey: event.shiftKey,
      isComposing: event.nativeEvent.isComposing,
    });
    if (action === 'submit') {
      event.preventDefault();
      void send();
    }
  };

  const status = message && (
    <p
      className={`merit-fb-message ${message.tone}`}
      role={message.role}
      data-testid={message.tone === 'error' ? 'merit-feedback-error' : 'merit-feedback-status'}
    >
      {message.text}
    </p>
  );

  if (mode === 'dismissed') {
    return (
      <div className="merit-fb merit-fb-collapsed" data-testid="merit-feedback" data-state="dismissed">
        {style}
        <button ref={reopenRef} type="button" className="merit-fb-link" onClick={reopen}>
          Rate this result
        </button>
      </div>
    );
  }

  if (mode === 'rated' && savedRating !== null) {
    return (
      <div className="merit-fb" data-testid="merit-feedback" data-state="rated" data-rating={savedRating}>
        {style}
        <p className="merit-fb-message">
          <span aria-hidden="true" className="merit-fb-star on">
            {'★'.repeat(savedRating)}
          </span>{' '}
          You rated this {describeRating(savedRating)}
        </p>
        <button ref={reopenRef} type="button" className="merit-fb-link" onClick={reopen}>
          Change rating
        </button>
        {status}
      </div>
    );
  }

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: routes shortcut keys (1-5, Enter, Escape) from the controls inside
    <div className="merit-fb" data-testid="merit-feedback" data-state="editing" onKeyDown={onWidgetKeyDown}>
      {style}
      <fieldset aria-describedby={`${baseId}-hint`}>
        <legend>{title}</legend>
        <div className="merit-fb-row">
          <div className="merit-fb-stars">
            {STARS.map((value) => (
              <span key={value}>
                <input
                  ref={(element) => {
                    starRefs.current[value - 1] = element;
                  }}
                  type="radio"
                  className="merit-fb-star-input"
                  id={`${baseId}-star-${value}`}
                  name={`${baseId}-rating`}
                  value={value}
                  checked={rating === value}
                  onChange={() => selectRating(value, false)}
                  onFocus={() => setHover(null)}
                  aria-label={describeRating(value)}
                />
                <label
                  htmlFor={`${baseId}-star-${value}`}
                  className={`merit-fb-star${shown !== null && value <= shown ? ' on' : ''}`}
                  onMouseEnter={() => setHover(value)}
                  onMouseLeave={() => setHover(null)}
                  aria-hidden="true"
                >
                  ★
                </label>
              </span>
            ))}
          </div>
          <span aria-hidden="true">{shown === null ? '' : RATING_WORDS[shown - 1]}</span>
        </div>
      </fieldset>
      <p id={`${baseId}-hint`} className="merit-fb-hidden">
        Press 1 to 5 or the arrow keys to choose, Enter to send, Escape to close.
      </p>
      <label>
        <span className="merit-fb-hidden">Comment (optional)</span>
        <textarea
          value={feedback}
          onChange={(event) => setFeedback(event.target.value)}
          onKeyDown={onTextareaKeyDown}
          placeholder="Optional comment (Enter to send, Shift+Enter for a new line)"
          rows={2}
          maxLength={MAX_FEEDBACK_LENGTH}
        />
      </label>
      <div className="merit-fb-actions">
        <button
          type="button"
          className="merit-fb-submit"
          onClick={() => void send()}
          disabled={submit.kind === 'submitting'}
        >
          {savedRating === null ? 'Send rating' : 'Update rating'}
        </button>
        {status}
      </div>
      <button type="button" className="merit-fb-close" aria-label="Dismiss feedback" onClick={dismiss}>
        ×
      </button>
    </div>
  );
}
