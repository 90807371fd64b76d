import { queryOptions } from '@tanstack/react-query';
import { type MeritConnection, requestJson } from './request.js';

export type ProjectRole = 'owner' | 'admin' | 'member' | 'viewer';

export interface SessionView {
  mode: 'local' | 'required';
  authenticated: boolean;
  account: { id: string; email: string } | null;
  project: { id: string; slug: string; name: string } | null;
  role: ProjectRole | null;
  csrf_token: string | null;
}

export interface Member {
  account_id: string;
  email: string;
  role: ProjectRole;
  created_at: string;
}

export interface Category {
  category: string;
  display_name: string;
  description: string;
  evaluation_criteria: string[];
  keywords: string[];
  recommended_agents: string[];
  typical_tokens: number;
  typical_duration_ms: number;
  is_builtin: boolean;
  updated_at: string;
}

export interface AgentRow {
  agent_id: string;
  nickname: string;
  display_name: string;
  role: string;
  model: string | null;
  active: boolean;
  simulated: boolean;
  is_reviewer: boolean;
  running_tasks: number;
  /** Present once GET /api/agents names where an agent comes from. */
  origin?: 'merit' | 'external';
  external_name?: string | null;
}

export interface PriceFigures {
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million: number;
  cache_write_per_million: number;
  reasoning_per_million: number;
}

export interface Prices {
  unit: string;
  checked: string | null;
  models: ({ model: string } & PriceFigures)[];
  pattern_count: number;
  models_in_use: {
    model: string;
    tasks: number;
    unpriced_tasks: number;
    configured_as: string[];
    matched_by: 'exact' | 'pattern' | null;
    price: PriceFigures | null;
  }[];
  unpriced_models: string[];
}

export interface Reviewer {
  agent_id: string;
  nickname: string;
  perspective: string | null;
  configured: boolean;
  reviews: number;
  n: number;
  correlation: number | null;
  mean_abs_error: number | null;
  weight: number;
}

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

export const reviewersQuery = (connection: MeritConnection) =>
  queryOptions({
    queryKey: key(connection, 'reviewers'),
    queryFn: ({ signal }) =>
      requestJson<{ reviewers: Reviewer[] }>(connection, 'GET', '/reviewers', { signal }),
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
