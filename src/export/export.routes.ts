import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppContext } from '../app-context.js';
import { findCategoryTemplate } from '../categories/categories.queries.js';
import { ValidationError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import type { AppEnv } from '../http/app-env.js';
import { errorResponses } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { DEFAULT_LEVEL } from '../ranking/ranking.js';
import { buildLeaderboard, DEFAULT_MIN_SAMPLE } from '../stats/leaderboard.js';
import { findStatsInWindow } from '../stats/stats.queries.js';
import { categorySchema } from '../tasks/task-schemas.js';
import { taskFilterQuery } from '../tasks/tasks.routes.js';
import { findDecisionExportPage, findTaskExportPage } from './export.queries.js';
import { LEADERBOARD_COLUMNS, ROUTING_DECISION_COLUMNS, TASK_COLUMNS } from './export-columns.js';
import { type ExportColumn, type ExportFormat, exportFileName } from './export-format.js';
import { onePage, openPages, streamExport } from './export-stream.js';

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((text) => new Date(text))
  .openapi({ type: 'string', example: '2026-11-01T00:00:00Z', description: 'ISO 8601 date or date-time' });

const rangeQuery = {
  format: z.enum(['csv', 'json']).default('csv'),
  since: instant
    .optional()
    .openapi({ description: 'From this instant on (inclusive); a date is its 00:00 UTC' }),
  until: instant.optional().openapi({ description: 'Before this instant (exclusive)' }),
};

const agentFilter = z.string().min(1).max(50).optional().openapi({ example: 'agent_a' });

/** The body is CSV (RFC 4180, a header record first) or a JSON document with the same columns per row. */
const downloadResponses = {
  200: {
    description:
      'The export, streamed as an attachment: CSV with a header record (unknown values empty), or JSON `{ export, generated_at, filters, rows }` (unknown values null)',
    content: {
      'text/csv': { schema: z.string() },
      'application/json': {
        schema: z
          .object({
            export: z.string(),
            generated_at: z.string(),
            filters: z.record(z.string(), z.unknown()),
            rows: z.array(z.record(z.string(), z.unknown())),
          })
          .openapi('ExportDocument'),
      },
    },
  },
  ...errorResponses,
} as const;

const tags = ['Export'];

function checkRange(range: { since?: Date | undefined; until?: Date | undefined }): void {
  if (range.since && range.until && range.until <= range.since)
    throw new ValidationError('until', 'must be later than since');
}

/** Leaderboard, task history and routing decisions as CSV or JSON downloads, within the caller's scope. */
export function registerExportRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;

  function download<T>(
    c: Context<AppEnv>,
    input: {
      kind: string;
      format: ExportFormat;
      columns: readonly ExportColumn<T>[];
      pages: AsyncIterable<T[]>;
      filters: Record<string, string | number | boolean | Date | undefined>;
    },
  ): Response {
    const generatedAt = new Date();
    const filters = Object.fromEntries(
      Object.entries(input.filters)
        .filter((entry): entry is [string, string | number | boolean | Date] => entry[1] !== undefined)
        .map(([name, value]) => [name, value instanceof Date ? value.toISOString() : value]),
    );
    const body = streamExport({
      format: input.format,
      kind: input.kind,
      columns: input.columns,
      pages: input.pages,
      filters,
      generatedAt,
      onError: (error) => ctx.log.error({ err: error, path: c.req.path }, 'export failed after it started'),
    });
    const fileName = exportFileName(input.kind, input.format, generatedAt);
    return new Response(body, {
      status: 200,
      headers: {
        'content-type':
          input.format === 'csv'
            ? 'text/csv; charset=utf-8; header=present'
            : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="${fileName}"`,
        // Each export is of its moment and its caller.
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/export/leaderboard',
      tags,
      summary:
        "The leaderboard over the project's tasks finished in a range (all time by default), overall or in one category",
      request: {
        query: z.object({
          ...userQuery,
          ...rangeQuery,
          category: categorySchema.optional(),
          min_sample: z.coerce.number().int().min(1).max(1000).default(DEFAULT_MIN_SAMPLE),
        }),
      },
      responses: downloadResponses,
    }),
    async (c) => {
      const query = c.req.valid('query');
      checkRange(query);
      const { projectId } = c.get('principal');
      if (query.category && !(await findCategoryTemplate(db, projectId, query.category)))
        throw new ValidationError('category', `unknown objective category '${query.category}'`);
      // The same sums as GET /api/agents/leaderboard over a window.
      const rows = await findStatsInWindow(
        db,
        projectId,
        { since: query.since, until: query.until },
        { category: query.category },
      );
      const rankings = buildLeaderboard(rows, { minSample: query.min_sample, level: DEFAULT_LEVEL });
      return download(c, {
        kind: 'leaderboard',
        format: query.format,
        columns: LEADERBOARD_COLUMNS,
        pages: onePage(rankings),
        filters: {
          since: query.since,
          until: query.until,
          category: query.category,
          min_sample: query.min_sample,
          level: DEFAULT_LEVEL,
        },
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/export/tasks',
      tags,
      summary:
        'The task history with scores and ratings, newest first, filtered as the task list is (agent, category, status, unrated, text, session) and by creation time',
      request: {
        query: z.object({
          ...userQuery,
          ...rangeQuery,
          ...taskFilterQuery,
          agent_id: agentFilter,
          category: categorySchema.optional(),
          mine: z.enum(['true', 'false']).optional().openapi({
            description: "Only the requesting user's tasks (local mode always exports the user's own)",
          }),
        }),
      },
      responses: downloadResponses,
    }),
    async (c) => {
      const query = c.req.valid('query');
      checkRange(query);
      const scope = c.get('principal');
      const filter = {
        agentId: query.agent_id,
        category: query.category,
        status: query.status,
        unrated: query.unrated === 'true',
        search: query.q,
        sessionId: query.session_id,
        since: query.since,
        until: query.until,
        mine: query.mine === 'true',
      };
      const pages = await openPages((after, limit) =>
        findTaskExportPage(db, scope, filter, { limit, after }),
      );
      return download(c, {
        kind: 'tasks',
        format: query.format,
        columns: TASK_COLUMNS,
        pages,
        filters: {
          since: query.since,
          until: query.until,
          agent_id: query.agent_id,
          category: query.category,
          status: query.status,
          unrated: filter.unrated,
          q: query.q,
          session_id: query.session_id,
          mine: scope.ownTasksOnly || filter.mine,
        },
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/export/routing-decisions',
      tags,
      summary:
        "Routing decisions with their task's outcome, newest first, filtered by chosen agent, category and time",
      request: {
        query: z.object({
          ...userQuery,
          ...rangeQuery,
          agent_id: agentFilter.openapi({ description: 'The chosen agent' }),
          category: categorySchema.optional(),
        }),
      },
      responses: downloadResponses,
    }),
    async (c) => {
      const query = c.req.valid('query');
      checkRange(query);
      const scope = c.get('principal');
      const filter = {
        agentId: query.agent_id,
        category: query.category,
        since: query.since,
        until: query.until,
      };
      const pages = await openPages((after, limit) =>
        findDecisionExportPage(db, scope, filter, { limit, after }),
      );
      return download(c, {
        kind: 'routing-decisions',
        format: query.format,
        columns: ROUTING_DECISION_COLUMNS,
        pages,
        filters: {
          since: query.since,
          until: query.until,
          agent_id: query.agent_id,
          category: query.category,
        },
      });
    },
  );
}
