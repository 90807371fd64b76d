import { createRoute, z } from '@hono/zod-openapi';
import type { MeritApp } from '../http/app.js';
import type { AppContext } from '../http/context.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { taskSchema } from '../tasks/tasks.routes.js';
import { submitCommand } from './commands.service.js';

const commandSchema = z
  .strictObject({
    command: z.string().trim().min(1).max(20_000).openapi({ example: '@bob research quantum computing' }),
  })
  .openapi('Command');

export function registerCommandRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/commands',
      tags: ['Mission Control'],
      summary: 'Send a command to an @mentioned agent, or to the agent the orchestrator picks',
      description:
        'Answers at once with the queued task; the agent runs in the background worker and every state ' +
        'change arrives on `/api/events`. An unknown `@nickname` is a 400 `unknown_agent_mention`.',
      request: {
        query: z.object(userQuery),
        body: { content: { 'application/json': { schema: commandSchema } }, required: true },
      },
      responses: { 202: jsonContent(taskSchema, 'The queued task'), ...errorResponses },
    }),
    async (c) => {
      const task = await submitCommand(ctx, c.get('principal'), c.req.valid('json').command);
      return c.json(task, 202);
    },
  );
}
