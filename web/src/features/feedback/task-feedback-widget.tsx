import { describeError } from '../../lib/api-client.js';
import { useRateTask } from './api/rate-task.js';
import { FeedbackForm } from './feedback-form.js';

export interface TaskFeedbackWidgetProps {
  taskId: string;
  /** The agent that executed the task: the rating changes its figures. */
  agentId: string;
  initialRating: number | null;
  initialFeedback: string | null;
}

/** Five-star rating with an optional comment under a completed result, saved through the rating mutation. */
export function TaskFeedbackWidget({
  taskId,
  initialRating,
  initialFeedback,
  agentId,
}: TaskFeedbackWidgetProps) {
  const rateTask = useRateTask();
  return (
    <FeedbackForm
      initialRating={initialRating}
      initialFeedback={initialFeedback}
      submit={async (rating, comment) => {
        try {
          const result = await rateTask.mutateAsync({ taskId, agentId, rating, feedback: comment ?? null });
          return result.message;
        } catch (error) {
          throw new Error(describeError(error));
        }
      }}
    />
  );
}
