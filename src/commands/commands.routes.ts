import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, errorSchema, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import {
  externalAgentResponse,
  objectiveRequestSchema,
  toObjectiveRequest,
} from '../routing/routing.routes.js';
import { taskSchema } from '../tasks/tasks.routes.js';
import { enforceCommandLimits } from './command-limits.js';
import { submitCommand } from './commands.service.js';

const commandSchema = z
  .strictObject({
    command: z.string().trim().min(1).max(20_000).openapi({ example: '@bob research quantum computing' }),
    objective: objectiveRequestSchema.optional(),
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
        'change arrives on `/api/events`. An unknown `@nickname` is a 400 `unknown_agent_mention`; an external ' +
        "agent's (one Merit measures but does not run) a 409 `agent_external`. `objective` overrides the " +
        "project's routing objective for this command.",
      request: {
        query: z.object(userQuery),
        body: { content: { 'application/json': { schema: commandSchema } }, required: true },
      },
      responses: {
        202: jsonContent(taskSchema, 'The queued task'),
        ...errorResponses,
        ...externalAgentResponse,
        429: {
          description:
            'Too many commands this minute, or the LLM budget of the day is spent; see Retry-After',
          content: { 'application/json': { schema: errorSchema } },
        },
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json');
      await enforceCommandLimits(ctx, principal, 1);
      const task = await submitCommand(ctx, principal, body.command, {
        objective: toObjectiveRequest(body.objective),
      });
      return c.json(task, 202);
    },
  );
}
