import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import type { MeritApp } from '../http/app.js';
import { conflictResponse, errorResponses, jsonContent, taskIdParams } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { submitTaskFeedback } from './feedback.js';

export const feedbackSchema = z
  .strictObject({
    user_rating: z.number().int().min(1).max(5).openapi({ example: 5, description: '1-5 stars' }),
    user_feedback: z.string().max(10_000).optional().openapi({ example: 'Great job!' }),
  })
  .openapi('Feedback');

export function registerFeedbackRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{task_id}/feedback',
      tags: ['Feedback'],
      summary: "Rate one of the user's completed tasks (rating again replaces the earlier rating)",
      request: {
        params: taskIdParams,
        query: z.object(userQuery),
        body: { content: { 'application/json': { schema: feedbackSchema } }, required: true },
      },
      responses: {
        200: jsonContent(
          z.object({ success: z.literal(true), message: z.string() }).openapi('FeedbackResult'),
          'Feedback stored',
        ),
        ...errorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const { task_id } = c.req.valid('param');
      await submitTaskFeedback(
        ctx.db,
        c.get('principal'),
        task_id,
        c.req.valid('json'),
        ctx.scoring,
        ctx.events,
      );
      return c.json({ success: true as const, message: 'Feedback submitted successfully' }, 200);
    },
  );
}
