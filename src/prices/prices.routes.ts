import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { describeModelsInUse, listTablePrices } from './prices.js';
import { findModelUses } from './prices.queries.js';

const priceSchema = z
  .object({
    input_per_million: z.number(),
    output_per_million: z.number(),
    cached_input_per_million: z.number(),
    cache_write_per_million: z.number(),
    reasoning_per_million: z.number(),
  })
  .openapi('ModelPrice');

const pricesSchema = z
  .object({
    unit: z.literal('USD per 1M tokens'),
    checked: z.string().nullable().openapi({ description: 'When the prices were last checked' }),
    models: z.array(z.object({ model: z.string() }).extend(priceSchema.shape)).openapi({
      description: 'The models the table names (src/llm/prices.json and MERIT_PRICES_FILE)',
    }),
    pattern_count: z
      .number()
      .openapi({ description: 'Glob and regex entries that price families of models' }),
    models_in_use: z.array(
      z.object({
        model: z.string(),
        tasks: z.number(),
        unpriced_tasks: z.number(),
        configured_as: z.array(z.string()),
        matched_by: z.enum(['exact', 'pattern']).nullable(),
        price: priceSchema.nullable(),
      }),
    ),
    unpriced_models: z.array(z.string()).openapi({
      description:
        "Models of the project's tasks or of the configuration that have no price: their costs are unknown",
    }),
  })
  .openapi('Prices');

export function registerPriceRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/prices',
      tags: ['System'],
      summary: "The model price table, and which models of the project's tasks it cannot price",
      request: { query: z.object(userQuery) },
      responses: { 200: jsonContent(pricesSchema, 'Prices'), ...errorResponses },
    }),
    async (c) => {
      const table = ctx.config.prices;
      const inUse = describeModelsInUse(
        await findModelUses(ctx.db, c.get('principal')),
        ctx.config.llm,
        table,
      );
      return c.json(
        {
          unit: 'USD per 1M tokens' as const,
          checked: table.checked,
          models: listTablePrices(table),
          pattern_count: table.patterns.length,
          models_in_use: inUse,
          unpriced_models: inUse.filter((use) => use.price === null).map((use) => use.model),
        },
        200,
      );
    },
  );
}
