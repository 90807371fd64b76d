import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { AppContext } from '../app-context.js';
import { LiveStreams } from '../events/event-bus.js';
import { toTaskPreviewView } from '../tasks/tasks.js';
import { findTaskPreviewInScope } from '../tasks/tasks.queries.js';
import type { MeritApp } from './app.js';
import { errorSchema } from './schemas.js';
import { userQuery } from './user.js';

const HEARTBEAT_MS = 15_000;
// Long enough for another stream of the user to close (a reloaded tab), and what EventSource waits anyway.
const RETRY_AFTER_SECONDS = 5;

/** The live streams of this process: capped by the configuration, task snapshots as list items. */
export function createLiveStreams(ctx: AppContext): LiveStreams {
  return new LiveStreams(
    ctx.events,
    async (projectId, taskId) => {
      // The streams that receive it were chosen by project and user (LiveStreams); the lookup stays in the
      // project, and finds no task of an unvoted Arena comparison.
      const row = await findTaskPreviewInScope(
        ctx.db,
        { projectId, userId: '', ownTasksOnly: false },
        taskId,
      );
      if (!row) return undefined;
      return { event: 'task', data: JSON.stringify(toTaskPreviewView(row)), id: `${row.id}:${row.status}` };
    },
    { maxPerUser: ctx.config.sse.maxPerUser, maxTotal: ctx.config.sse.maxTotal },
  );
}

/**
 * Server-sent events for Mission Control: `task` (one of the user's tasks, on every state change, as
 * GET /api/tasks lists it: long texts as previews), `leaderboard` (statistics changed; `agent_ids` names
 * the agents whose figures changed, empty for all: refetch), `categories` and `agents` (the project's
 * categories or agents were edited: refetch those lists).
 * Only tasks the caller may see are sent (its own in local mode, its project's otherwise). Streams are capped per user and per process.
 */
export function registerEventRoutes(
  app: MeritApp,
  ctx: AppContext,
  streams: LiveStreams = createLiveStreams(ctx),
): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/events',
      tags: ['Mission Control'],
      summary:
        "Live stream of the user's task changes, leaderboard changes and the project's category and agent edits (text/event-stream)",
      request: { query: z.object(userQuery) },
      responses: {
        200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
        429: {
          description: `Too many open streams, for this user (MERIT_SSE_MAX_PER_USER) or in all (MERIT_SSE_MAX_TOTAL); see Retry-After`,
          content: { 'application/json': { schema: errorSchema } },
        },
      },
    }),
    (c) => {
      const principal = c.get('principal');
      const stream = streams.open({
        projectId: principal.projectId,
        userId: principal.userId,
        wholeProject: !principal.ownTasksOnly,
      });
      if (stream === 'user_limit' || stream === 'total_limit') {
        c.header('Retry-After', String(RETRY_AFTER_SECONDS));
        const message =
          stream === 'user_limit'
            ? `This user already has ${streams.limits.maxPerUser} live streams open; close one first`
            : `The server already serves ${streams.limits.maxTotal} live streams; try again later`;
        return c.json({ error: { code: 'too_many_streams', message } }, 429);
      }
      return streamSSE(c, async (sse) => {
        sse.onAbort(() => stream.close());
        try {
          await sse.writeSSE({ event: 'ready', data: '{}' });
          while (!sse.aborted && !sse.closed && !stream.closed) {
            const message = await stream.next(HEARTBEAT_MS);
            if (message) await sse.writeSSE(message);
            else if (!stream.closed) await sse.write(': heartbeat\n\n');
          }
        } finally {
          stream.close();
        }
      });
    },
  );
}
