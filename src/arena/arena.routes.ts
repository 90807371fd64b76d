import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import { enforceCommandLimits } from '../commands/command-limits.js';
import type { ArenaWinner } from '../db/database.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, errorSchema, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import {
  ARENA_VOTES,
  type BattleInput,
  battleTimestamp,
  MAX_CATEGORY_CHARS,
  MAX_CONTESTANT_NAME_CHARS,
  toBattleTimestamp,
} from './arena.js';
import {
  buildArenaLeaderboard,
  createComparison,
  recordBattles,
  requireComparison,
  toComparisonView,
  voteOnComparison,
} from './arena.service.js';
import {
  ARENA_OUTCOMES,
  DEFAULT_ARENA_SEED,
  DEFAULT_BOOTSTRAP_ROUNDS,
  MAX_BOOTSTRAP_ROUNDS,
  MIN_BOOTSTRAP_ROUNDS,
} from './bradley-terry.js';

/** Battles per POST /api/arena/battles; larger sets go through `npx merit arena import`. */
export const MAX_BATTLES_PER_REQUEST = 1000;

const agentName = z
  .string()
  .trim()
  .min(1)
  .max(MAX_CONTESTANT_NAME_CHARS)
  .openapi({ description: "An agent id or nickname of the project, or an outside contestant's name" });

const battleInputSchema = z
  .strictObject({
    model_a: agentName.openapi({ example: 'agent_a' }),
    model_b: agentName.openapi({ example: 'gpt-4o' }),
    winner: z.enum(ARENA_OUTCOMES as [ArenaWinner, ...ArenaWinner[]]),
    category: z.string().trim().min(1).max(MAX_CATEGORY_CHARS).optional(),
    judge: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "Who decided; `user:<caller's user id>` when omitted" }),
    anony: z.boolean().optional().openapi({ description: "Whether the judge saw the contestants' names" }),
    tstamp: battleTimestamp
      .optional()
      .openapi({ description: 'When the battle took place: seconds since 1970 (FastChat) or ISO 8601' }),
    command: z.string().trim().min(1).max(20_000).optional(),
    key: z
      .string()
      .trim()
      .min(1)
      .max(180)
      .optional()
      .openapi({ description: 'Idempotency key: a battle re-sent with the same key is not stored twice' }),
  })
  .openapi('ArenaBattleInput');

const recordedSchema = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    battle_ids: z.array(z.string()),
    new_agents: z.array(z.string()).openapi({ description: 'Contestants registered as external agents' }),
  })
  .openapi('ArenaBattlesRecorded');

const nullableMatrix = <T extends z.ZodType>(cell: T) =>
  z.record(z.string(), z.record(z.string(), cell.nullable()));

const leaderboardSchema = z
  .object({
    category: z.string().nullable(),
    total_battles: z.number().int(),
    bootstrap_rounds: z.number().int(),
    seed: z.number().int(),
    level: z.number(),
    method: z.string(),
    ratings: z.array(
      z.object({
        agent_id: z.string(),
        nickname: z.string(),
        display_name: z.string(),
        origin: z.enum(['merit', 'external']),
        rating: z.number(),
        lower: z.number().nullable(),
        upper: z.number().nullable(),
        rank: z.number().int(),
        battles: z.number().int(),
      }),
    ),
    win_rates: nullableMatrix(z.number()).openapi({
      description:
        'win_rates[a][b]: share of points a scored against b (ties half); null when they never met',
    }),
    battle_counts: nullableMatrix(z.number().int()),
    categories: z.array(z.object({ category: z.string().nullable(), battles: z.number().int() })),
  })
  .openapi('ArenaLeaderboard');

const answerSchema = z.object({
  status: z.enum(['queued', 'running', 'completed', 'failed']).nullable(),
  result: z.string().nullable(),
  error: z.string().nullable(),
});

const revealedAgentSchema = z.object({
  agent_id: z.string(),
  nickname: z.string(),
  display_name: z.string(),
  task_id: z.string().nullable(),
});

const comparisonSchema = z
  .object({
    id: z.string(),
    command: z.string(),
    category: z.string().nullable(),
    created_at: z.string(),
    status: z.enum(['answering', 'ready', 'voted']),
    answers: z.object({ A: answerSchema, B: answerSchema }),
    llm_judge: z.boolean(),
    vote: z.enum(ARENA_VOTES as [string, ...string[]]).nullable(),
    voted_at: z.string().nullable(),
    agents: z
      .object({ A: revealedAgentSchema, B: revealedAgentSchema })
      .nullable()
      .openapi({ description: 'Which agent gave each answer: null until the vote' }),
    battles: z.array(
      z.object({
        id: z.string(),
        winner: z.string(),
        judge: z.string(),
        source: z.string(),
        reasoning: z.string().nullable(),
      }),
    ),
  })
  .openapi('ArenaComparison');

const comparisonParams = z.object({
  comparison_id: z.guid().openapi({
    param: { name: 'comparison_id', in: 'path' },
    example: '5b0c8a59-4d6a-4f5e-9f53-0d5c6f1c2a10',
  }),
});

const rateLimitedResponse = {
  429: {
    description: 'Too many commands this minute; see Retry-After',
    content: { 'application/json': { schema: errorSchema } },
  },
} as const;

const conflictResponse = {
  409: {
    description: 'Already voted, or the answers are not finished yet',
    content: { 'application/json': { schema: errorSchema } },
  },
} as const;

export function registerArenaRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/arena/battles',
      tags: ['Arena'],
      summary: 'Record battles judged outside Merit (FastChat fields)',
      description:
        'Contestants are named by agent id or nickname, or by any other name, which registers an external ' +
        `agent. Up to ${MAX_BATTLES_PER_REQUEST} battles per request; a battle re-sent with the same \`key\` is a duplicate.`,
      request: {
        query: z.object(userQuery),
        body: {
          content: {
            'application/json': {
              schema: z.strictObject({
                battles: z.array(battleInputSchema).min(1).max(MAX_BATTLES_PER_REQUEST),
              }),
            },
          },
          required: true,
        },
      },
      responses: { 201: jsonContent(recordedSchema, 'What was stored'), ...errorResponses },
    }),
    async (c) => {
      const principal = c.get('principal');
      const inputs: BattleInput[] = c.req.valid('json').battles.map((battle) => ({
        modelA: battle.model_a,
        modelB: battle.model_b,
        winner: battle.winner,
        category: battle.category ?? null,
        judge: battle.judge ?? `user:${principal.userId}`,
        source: 'api',
        anony: battle.anony ?? null,
        tstamp: toBattleTimestamp(battle.tstamp),
        command: battle.command ?? null,
        externalKey: battle.key === undefined ? null : `api:${battle.key}`,
      }));
      const recorded = await recordBattles(ctx.db, principal.projectId, inputs, {
        recordedBy: principal.userId,
        events: ctx.events,
      });
      return c.json(recorded, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/arena/leaderboard',
      tags: ['Arena'],
      summary: 'Arena ratings: Bradley-Terry with bootstrap intervals, overall or in one category',
      request: {
        query: z.object({
          ...userQuery,
          category: z.string().trim().min(1).max(MAX_CATEGORY_CHARS).optional(),
          rounds: z.coerce
            .number()
            .int()
            .min(MIN_BOOTSTRAP_ROUNDS)
            .max(MAX_BOOTSTRAP_ROUNDS)
            .default(DEFAULT_BOOTSTRAP_ROUNDS)
            .openapi({ description: 'Bootstrap rounds' }),
          seed: z.coerce
            .number()
            .int()
            .min(0)
            .max(2 ** 32 - 1)
            .default(DEFAULT_ARENA_SEED)
            .openapi({
              description: 'Seed of the bootstrap: the same battles and seed give the same figures',
            }),
        }),
      },
      responses: { 200: jsonContent(leaderboardSchema, 'The Arena leaderboard'), ...errorResponses },
    }),
    async (c) => {
      const principal = c.get('principal');
      const query = c.req.valid('query');
      const board = await buildArenaLeaderboard(ctx.db, principal.projectId, {
        category: query.category ?? null,
        rounds: query.rounds,
        seed: query.seed,
      });
      return c.json(board, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/arena/compare',
      tags: ['Arena'],
      summary: 'Send a command to two agents for a blind comparison',
      description:
        'The two agents are the ones named in `agents`, or two the router draws for the command. Each ' +
        'answers as an ordinary Mission Control task; the answers are shown as A and B in a random order ' +
        'and the names are revealed after the vote. Counts as two commands toward the rate limit.',
      request: {
        query: z.object(userQuery),
        body: {
          content: {
            'application/json': {
              schema: z.strictObject({
                command: z
                  .string()
                  .trim()
                  .min(1)
                  .max(20_000)
                  .openapi({ example: 'summarize the plan in 3 bullets' }),
                agents: z.array(z.string().trim().min(1).max(50)).length(2).optional(),
                llm_judge: z.boolean().optional().openapi({
                  description: 'Also have the LLM judge (pairwise, both orders) compare the answers',
                }),
              }),
            },
          },
          required: true,
        },
      },
      responses: {
        201: jsonContent(comparisonSchema, 'The comparison, answers pending'),
        ...errorResponses,
        ...rateLimitedResponse,
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json');
      // Two agents run: two commands toward the user's limit.
      await enforceCommandLimits(ctx, principal, 2);
      const comparison = await createComparison(ctx, principal, {
        command: body.command,
        agents: body.agents,
        llmJudge: body.llm_judge,
      });
      return c.json(await toComparisonView(ctx.db, comparison), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/arena/compare/{comparison_id}',
      tags: ['Arena'],
      summary: 'A blind comparison: the answers as A and B, the names only after the vote',
      request: { params: comparisonParams, query: z.object(userQuery) },
      responses: { 200: jsonContent(comparisonSchema, 'The comparison'), ...errorResponses },
    }),
    async (c) => {
      const principal = c.get('principal');
      const comparison = await requireComparison(ctx.db, principal, c.req.valid('param').comparison_id);
      return c.json(await toComparisonView(ctx.db, comparison), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/arena/compare/{comparison_id}/vote',
      tags: ['Arena'],
      summary: 'Vote on a blind comparison (A better, B better, tie, both bad) and reveal the names',
      request: {
        params: comparisonParams,
        query: z.object(userQuery),
        body: {
          content: {
            'application/json': {
              schema: z.strictObject({ winner: z.enum(ARENA_VOTES as ['A', 'B', 'tie', 'bothbad']) }),
            },
          },
          required: true,
        },
      },
      responses: {
        200: jsonContent(comparisonSchema, 'The comparison with the names revealed'),
        ...errorResponses,
        ...conflictResponse,
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const comparison = await voteOnComparison(
        ctx.db,
        principal,
        { comparisonId: c.req.valid('param').comparison_id, vote: c.req.valid('json').winner },
        ctx.events,
      );
      return c.json(await toComparisonView(ctx.db, comparison), 200);
    },
  );
}
