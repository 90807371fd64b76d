import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { describeError } from '../../lib/api-client.js';
import { useRateTask } from './api/rate-task.js';
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
} from './feedback-rules.js';

const RATING_WORDS = ['Poor', 'Fair', 'Good', 'Very good', 'Excellent'];
const STARS = Array.from({ length: MAX_RATING }, (_, index) => index + 1);

export interface TaskFeedbackWidgetProps {
  taskId: string;
  /** The agent that executed the task: the rating changes its figures. */
  agentId: string;
  initialRating: number | null;
  initialFeedback: string | null;
}

type Mode = 'editing' | 'rated' | 'dismissed';

/** Five-star rating with an optional comment under a completed result. */
export function TaskFeedbackWidget({
  taskId,
  initialRating,
  initialFeedback,
  agentId,
}: TaskFeedbackWidgetProps) {
  const rateTask = useRateTask();
  const [mode, setMode] = useState<Mode>(initialRating === null ? 'editing' : 'rated');
  const [savedRating, setSavedRating] = useState<number | null>(initialRating);
  const [savedFeedback, setSavedFeedback] = useState<string | null>(initialFeedback);
  const [rating, setRating] = useState<number | null>(initialRating);
  const [hover, setHover] = useState<number | null>(null);
  const [feedback, setFeedback] = useState(initialFeedback ?? '');
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

  // A rating that arrives later (a refetch, another tab) shows, unless the user is rating right now.
  useEffect(() => {
    if (initialRating === null || mode === 'editing') return;
    setSavedRating(initialRating);
    setSavedFeedback(initialFeedback);
    setRating(initialRating);
    setFeedback(initialFeedback ?? '');
    setMode('rated');
  }, [initialRating, initialFeedback, mode]);

  const shown = hover ?? rating;
  const message = describeSubmitState(submit);

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
      const result = await rateTask.mutateAsync({ taskId, agentId, rating, feedback: comment ?? null });
      setSavedRating(rating);
      setSavedFeedback(comment ?? null);
      setSubmit({ kind: 'success', message: result.message || 'Feedback saved.' });
      setMode('rated');
      focusAfterSwitch.current = 'reopen';
    } catch (error) {
      setSubmit({ kind: 'failed', message: describeError(error) });
    }
  };

  const dismiss = () => {
    setHover(null);
    setSubmit({ kind: 'idle' });
    setRating(savedRating);
    setFeedback(savedFeedback ?? '');
    setMode(savedRating === null ? 'dismissed' : 'rated');
    focusAfterSwitch.current = 'reopen';
  };

  const reopen = () => {
    setSubmit({ kind: 'idle' });
    setMode('editing');
    focusAfterSwitch.current = 'stars';
  };

  const onWidgetKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (mode !== 'editing') return;
    const inTextarea = event.target instanceof HTMLTextAreaElement;
    if (event.key === 'Escape') {
      event.preventDefault();
      dismiss();
      return;
    }
    if (inTextarea) return;
    const inStars = event.target instanceof HTMLInputElement && event.target.type === 'radio';
    if (event.key === 'Enter' && inStars) {
      event.preventDefault();
      void send();
      return;
    }
    // Digits pick a rating from anywhere in the widget; arrows and Home/End move within the stars, using the
    // widget's own rules (clamped at 1 and 5) instead of the browser's wrap-around.
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
      className={`feedback-message tone-${message.tone}`}
      role={message.role}
      data-testid={message.tone === 'error' ? 'feedback-error' : 'feedback-status'}
    >
      {message.text}
    </p>
  );

  if (mode === 'dismissed') {
    return (
      <div className="feedback feedback-collapsed" data-testid="feedback-widget" data-state="dismissed">
        <button
          ref={reopenRef}
          type="button"
          className="link-button"
          onClick={reopen}
          data-testid="feedback-open"
        >
          Rate this result
        </button>
      </div>
    );
  }

  if (mode === 'rated' && savedRating !== null) {
    return (
      <div
        className="feedback feedback-rated"
        data-testid="feedback-widget"
        data-state="rated"
        data-rating={savedRating}
      >
        <span className="feedback-summary">
          <span aria-hidden="true" className="stars-static">
            {'★'.repeat(savedRating)}
            <span className="star-off">{'★'.repeat(MAX_RATING - savedRating)}</span>
          </span>
          <span>You rated this {describeRating(savedRating)}</span>
        </span>
        {savedFeedback && <q className="feedback-quote">{savedFeedback}</q>}
        <button
          ref={reopenRef}
          type="button"
          className="link-button"
          onClick={reopen}
          data-testid="feedback-change"
        >
          Change rating
        </button>
        {status}
      </div>
    );
  }

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: routes shortcut keys (1-5, Enter, Escape) from the controls inside
    <div className="feedback" data-testid="feedback-widget" data-state="editing" onKeyDown={onWidgetKeyDown}>
      <fieldset className="stars-fieldset" aria-describedby={`${baseId}-hint`}>
        <legend className="feedback-label">How good was this result?</legend>
        <div className="feedback-row">
          <div className="stars" data-testid="feedback-stars">
            {STARS.map((value) => (
              <span key={value} className="star-option">
                <input
                  ref={(element) => {
                    starRefs.current[value - 1] = element;
                  }}
                  type="radio"
                  className="star-input"
                  id={`${baseId}-star-${value}`}
                  name={`${baseId}-rating`}
                  value={value}
                  checked={rating === value}
                  onChange={() => selectRating(value, false)}
                  onFocus={() => setHover(null)}
                  data-testid={`feedback-star-input-${value}`}
                />
                <label
                  htmlFor={`${baseId}-star-${value}`}
                  className={`star${shown !== null && value <= shown ? ' star-on' : ''}${hover !== null ? ' star-preview' : ''}`}
                  onMouseEnter={() => setHover(value)}
                  onMouseLeave={() => setHover(null)}
                  data-testid={`feedback-star-${value}`}
                >
                  <span aria-hidden="true">★</span>
                  <span className="visually-hidden">{describeRating(value)}</span>
                </label>
              </span>
            ))}
          </div>
          <span className="rating-word" aria-hidden="true">
            {shown === null ? '' : RATING_WORDS[shown - 1]}
          </span>
        </div>
      </fieldset>
      <p id={`${baseId}-hint`} className="visually-hidden">
        Press 1 to 5 or the arrow keys to choose, Enter to send, Escape to close.
      </p>
      <label className="feedback-comment">
        <span className="visually-hidden">Comment (optional)</span>
        <textarea
          value={feedback}
          onChange={(event) => setFeedback(event.target.value)}
          onKeyDown={onTextareaKeyDown}
          placeholder="Optional comment — Enter to send, Shift+Enter for a new line"
          rows={2}
          maxLength={MAX_FEEDBACK_LENGTH}
          data-testid="feedback-text"
        />
      </label>
      <div className="feedback-actions">
        <button
          type="button"
          className="button button-primary"
          onClick={() => void send()}
          disabled={submit.kind === 'submitting'}
          data-testid="feedback-submit"
        >
          {savedRating === null ? 'Send rating' : 'Update rating'}
        </button>
        {status}
      </div>
      <button
        type="button"
        className="icon-button feedback-close"
        aria-label="Dismiss feedback"
        onClick={dismiss}
        data-testid="feedback-close"
      >
        ×
      </button>
    </div>
  );
}
