import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { MeritApp } from './app.js';
import type { AppContext } from './context.js';
import type { LiveEvent } from './event-bus.js';
import { userQuery } from './user.js';

const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events for Mission Control: `task` (a snapshot of one of the user's tasks, on every state
 * change) and `leaderboard` (statistics changed; refetch). Only the requesting user's tasks are sent.
 */
export function registerEventRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/events',
      tags: ['Mission Control'],
      summary: "Live stream of the user's task changes and leaderboard changes (text/event-stream)",
      request: { query: z.object(userQuery) },
      responses: {
        200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
      },
    }),
    (c) => {
      const userId = c.get('userId');
      return streamSSE(c, async (stream) => {
        const queue: LiveEvent[] = [];
        let wake: (() => void) | undefined;
        const unsubscribe = ctx.events.subscribe((event) => {
          if (event.type === 'task' && event.userId !== userId) return;
          queue.push(event);
          wake?.();
        });
        stream.onAbort(unsubscribe);
        await stream.writeSSE({ event: 'ready', data: '{}' });
        while (!stream.aborted && !stream.closed) {
          const event = queue.shift();
          if (!event) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, HEARTBEAT_MS);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = undefined;
            if (queue.length === 0) await stream.write(': heartbeat\n\n');
            continue;
          }
          if (event.type === 'task') {
            const task = await ctx.tracker.getTask(userId, event.taskId).catch(() => undefined);
            if (task)
              await stream.writeSSE({
                event: 'task',
                data: JSON.stringify(task),
                id: `${task.id}:${task.status}`,
              });
          } else {
            await stream.writeSSE({
              event: 'leaderboard',
              data: JSON.stringify({ agent_ids: event.agentIds }),
            });
          }
        }
        unsubscribe();
      });
    },
  );
}
