/** The widget's one request: a user's rating, posted with a `feedback`-scope key from the host's page. */

export interface FeedbackTarget {
  /** Where Merit listens, e.g. `https://merit.example.com` (no trailing `/api`). */
  baseUrl: string;
  /** A project key with the `feedback` scope whose allowed origins include the host page's origin. */
  apiKey: string;
  taskId: string;
  /** The end user rating the task, any string id (optional). */
  userId?: string | undefined;
}

/** What Merit answered, as the message the widget shows. Throws with a readable message when refused. */
export async function postFeedback(
  target: FeedbackTarget,
  rating: number,
  comment: string | undefined,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const base = target.baseUrl.replace(/\/+$/, '');
  const query = target.userId ? `?user_id=${encodeURIComponent(target.userId)}` : '';
  let response: Response;
  try {
    response = await fetchImpl(`${base}/api/tasks/${encodeURIComponent(target.taskId)}/feedback${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}` },
      body: JSON.stringify(
        comment === undefined ? { user_rating: rating } : { user_rating: rating, user_feedback: comment },
      ),
      // The key is the credential: no cookies of the Merit origin go along.
      credentials: 'omit',
    });
  } catch {
    // A CORS refusal (an origin the key does not allow) looks like a network error to the page.
    throw new Error(
      'Feedback could not be sent: Merit is unreachable or does not accept ratings from this site.',
    );
  }
  const body = (await response.json().catch(() => null)) as {
    message?: unknown;
    error?: { message?: unknown };
  } | null;
  if (!response.ok) {
    const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status}`;
    throw new Error(`Feedback was not saved: ${message}`);
  }
  return typeof body?.message === 'string' ? body.message : 'Feedback saved.';
}
