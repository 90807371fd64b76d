import { queryOptions } from '@tanstack/react-query';
import type { components, paths } from '../../../lib/openapi.generated.js';
import { type MeritConnection, requestJson } from './request.js';

type Schemas = components['schemas'];

export type SessionView = Schemas['Session'];
export type Member = Schemas['Member'];
export type ProjectRole = Member['role'];
export type Category = Schemas['CategoryTemplate'];
export type AgentRow = Schemas['Agent'];
export type Prices = Schemas['Prices'];
export type PriceFigures = NonNullable<Prices['models_in_use'][number]['price']>;
export type Reviewer = Schemas['ReviewerAgreement'];
type ReviewersAnswer = paths['/api/reviewers']['get']['responses'][200]['content']['application/json'];
export type ReviewersWindow = NonNullable<
  NonNullable<paths['/api/reviewers']['get']['parameters']['query']>['window']
>;

type OpenApiSchema = { $ref?: string; properties?: Record<string, { type?: string | string[] }> };
type OpenApiDocument = {
  paths?: Record<
    string,
    Record<string, { requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> } }>
  >;
  components?: { schemas?: Record<string, OpenApiSchema> };
};

const key = (connection: MeritConnection, name: string) =>
  ['admin', name, connection.project ?? '', connection.userId ?? ''] as const;

export const sessionQuery = (connection: MeritConnection) =>
  queryOptions({
    queryKey: key(connection, 'session'),
    queryFn: ({ signal }) => requestJson<SessionView>(connection, 'GET', '/auth/session', { signal }),
  });

export const membersQuery = (connection: MeritConnection) =>
  queryOptions({
    queryKey: key(connection, 'members'),
    queryFn: ({ signal }) => requestJson<{ members: Member[] }>(connection, 'GET', '/members', { signal }),
  });

export const categoriesQuery = (connection: MeritConnection) =>
  queryOptions({
    queryKey: key(connection, 'categories'),
    queryFn: ({ signal }) =>
      requestJson<{ categories: Category[] }>(connection, 'GET', '/categories', { signal }),
  });

export const agentsQuery = (connection: MeritConnection) =>
  queryOptions({
    queryKey: key(connection, 'agents'),
    queryFn: ({ signal }) => requestJson<{ agents: AgentRow[] }>(connection, 'GET', '/agents', { signal }),
  });

export const pricesQuery = (connection: MeritConnection) =>
  queryOptions({
    queryKey: key(connection, 'prices'),
    queryFn: ({ signal }) => requestJson<Prices>(connection, 'GET', '/prices', { signal }),
  });

/** The reviewers' figures over a window (the read endpoints' `window`), and the period the server read. */
export const reviewersQuery = (connection: MeritConnection, window: ReviewersWindow) =>
  queryOptions({
    queryKey: [...key(connection, 'reviewers'), window] as const,
    queryFn: ({ signal }) =>
      requestJson<ReviewersAnswer>(connection, 'GET', '/reviewers', { signal, query: { window } }),
  });

/**
 * The agent fields PATCH /api/agents/{agent_id} accepts, read from the OpenAPI document; empty when the
 * server has no such operation (the agents tab is then read-only).
 */
export const agentPatchFieldsQuery = (connection: MeritConnection) =>
  queryOptions({
    queryKey: key(connection, 'agent-patch-fields'),
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: async ({ signal }) => {
      const doc = await requestJson<OpenApiDocument>(
        { ...connection, userId: null },
        'GET',
        '/openapi.json',
        {
          signal,
        },
      );
      const body =
        doc.paths?.['/api/agents/{agent_id}']?.patch?.requestBody?.content?.['application/json']?.schema;
      const resolved = body?.$ref ? doc.components?.schemas?.[body.$ref.split('/').pop() ?? ''] : body;
      return Object.keys(resolved?.properties ?? {});
    },
  });
