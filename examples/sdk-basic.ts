/**
 * Records two agent tasks and a rating with Merit's TypeScript SDK.
 *
 *   npx tsx examples/sdk-basic.ts
 *
 * Against a local Merit (`npm start`, MERIT_AUTH=local on 127.0.0.1) nothing else is needed: the tasks
 * are recorded for MERIT_USER_ID (the local default user unless set). With MERIT_AUTH=required, create
 * a key with `npx merit keys create --project default --scopes ingest,feedback --name sdk` and set MERIT_API_KEY.
 * MERIT_URL defaults to http://127.0.0.1:8000. In your own app import from 'merit/sdk' instead.
 */
import { MeritClient } from '../src/sdk/merit-client.js';

const baseUrl = process.env.MERIT_URL ?? 'http://127.0.0.1:8000';
const apiKey = process.env.MERIT_API_KEY;
// Local mode names its user with ?user_id=; with a key, the key's project is the caller.
const userId = apiKey ? undefined : (process.env.MERIT_USER_ID ?? '00000000-0000-0000-0000-000000000001');

const merit = new MeritClient({
  baseUrl,
  apiKey,
  userId,
  onError: (error) => console.error(`Merit refused or could not be reached: ${error.message}`),
});

/** Stands in for a model call: waits, then answers with made-up token counts. */
async function callModel(
  prompt: string,
): Promise<{ text: string; inputTokens: number; outputTokens: number }> {
  await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
  return { text: `An answer to "${prompt}"`, inputTokens: prompt.length * 3, outputTokens: 40 };
}

let ratedTaskId = '';
const summary = await merit.task('agent_a', 'Summarize the release notes of version 2.4', async (task) => {
  ratedTaskId = task.id;
  const notes = await task.step('fetch release notes', async () => 'Faster sync; fixed login; new export.');
  const draft = await task.step('draft summary', async (step) => {
    const answer = await callModel(`Summarize: ${notes}`);
    step.usage({ model: 'gpt-4o-mini', inputTokens: answer.inputTokens, outputTokens: answer.outputTokens });
    return answer.text;
  });
  return draft;
});
console.log(`Task ${ratedTaskId} completed: ${summary}`);

// A failing task: the error is recorded (the task and its step marked failed) and re-thrown.
try {
  await merit.task('agent_b', 'Book the cheapest flight to Lisbon', async (task) => {
    await task.step('search flights', async () => ['TP 1234', 'FR 8321']);
    await task.step('pay', async () => {
      throw new Error('payment provider timed out');
    });
  });
} catch (error) {
  console.log(`Task failed as expected: ${(error as Error).message}`);
}

// The user liked the summary (a key needs the feedback scope for this).
merit.feedback(ratedTaskId, 5, 'Short and accurate');

await merit.close();
console.log('Sent:', merit.stats());
console.log(`Open ${baseUrl}/ to see the tasks in Mission Control.`);
