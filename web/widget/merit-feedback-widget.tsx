/**
 * Merit's task feedback widget for host apps (`merit/widget`): the seed's TaskFeedbackWidget (five stars,
 * an optional comment, Enter submits, Escape or × dismisses) posting the rating straight to Merit with a
 * `feedback`-scope key. It is Mission Control's FeedbackForm itself, with its own style sheet. React is the
 * host's own (a peer dependency); the script-tag bundle brings its own.
 */
import { FeedbackForm } from '../src/features/feedback/feedback-form.js';
import { postFeedback } from './feedback-request.js';
import { WIDGET_CSS } from './widget-styles.js';

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
  /** Leaves out the built-in styles (the host styles the classes inside `.merit-fb` itself). */
  unstyled?: boolean;
}

export function MeritFeedbackWidget({
  taskId,
  baseUrl,
  apiKey,
  userId,
  title,
  onRated,
  onDismiss,
  unstyled = false,
}: MeritFeedbackWidgetProps) {
  return (
    <div className="merit-fb" data-testid="merit-feedback">
      {unstyled ? null : <style>{WIDGET_CSS}</style>}
      <FeedbackForm
        submit={(rating, comment) => postFeedback({ baseUrl, apiKey, taskId, userId }, rating, comment)}
        {...(title === undefined ? {} : { title })}
        {...(onRated ? { onRated } : {})}
        {...(onDismiss ? { onDismiss } : {})}
      />
    </div>
  );
}
