import type { Permission } from './principal.js';

/** `public`: no credentials needed (health, docs, the login endpoints). */
export type RouteRule = Permission | 'public';

/**
 * Every API route's rule, by method and OpenAPI path. The authentication middleware looks each request's
 * route up here and refuses a route that has none (fail closed); the OpenAPI document shows each rule as
 * `x-merit-permission`, and test/http/authorization.test.ts generates its matrix from that document.
 */
export const ROUTE_RULES: Readonly<Record<string, RouteRule>> = {
  'GET /api/health': 'public',
  'GET /api/openapi.json': 'public',
  'GET /api/docs': 'public',
  'GET /api/docs/assets/{file}': 'public',
  'GET /api/auth/session': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/logout': 'public',

  'GET /api/tasks': 'read',
  'GET /api/tasks/{task_id}': 'read',
  'GET /api/tasks/{task_id}/evaluation': 'read',
  'GET /api/tasks/{task_id}/routing-decision': 'read',
  'GET /api/agents': 'read',
  'GET /api/agents/leaderboard': 'read',
  'GET /api/agents/{agent_id}/performance': 'read',
  'GET /api/agents/{agent_id}/capabilities': 'read',
  'GET /api/agents/{agent_id}/nodes': 'read',
  'GET /api/agents/{agent_id}/trend': 'read',
  'PATCH /api/agents/{agent_id}': 'admin',
  'GET /api/categories': 'read',
  'GET /api/categories/{category}/best-agents': 'read',
  'GET /api/events': 'read',
  'GET /api/reviewers': 'read',
  'GET /api/evaluators/calibration': 'read',
  'GET /api/routing/decisions': 'read',
  'GET /api/routing/quality': 'read',
  'GET /api/routing/objective': 'read',

  'POST /api/tasks': 'ingest',
  'POST /api/tasks/completed': 'ingest',
  'POST /api/tasks/batch': 'ingest',
  'POST /api/tasks/{task_id}/start': 'ingest',
  'POST /api/tasks/{task_id}/nodes': 'ingest',
  'POST /api/tasks/{task_id}/complete': 'ingest',
  'POST /api/tasks/{task_id}/fail': 'ingest',
  'POST /api/commands': 'ingest',
  // Classification may call the LLM: it costs what a command's classification costs.
  'POST /api/route/classify': 'ingest',
  'POST /api/route/recommend': 'ingest',
  // OTLP/HTTP trace export: OTLP's default path, and the same under /api.
  'POST /v1/traces': 'ingest',
  'POST /api/otel/v1/traces': 'ingest',

  'POST /api/tasks/{task_id}/feedback': 'feedback',

  'POST /api/categories': 'admin',
  'PATCH /api/categories/{category}': 'admin',
  'GET /api/keys': 'admin',
  'POST /api/keys': 'admin',
  'DELETE /api/keys/{key_id}': 'admin',
  'GET /api/members': 'admin',
  'PUT /api/members/{account_id}': 'admin',
  'GET /api/audit': 'admin',
  'GET /api/project': 'read',
  'GET /api/status': 'read',
  'GET /api/export/leaderboard': 'read',
  'GET /api/export/tasks': 'read',
  'GET /api/export/routing-decisions': 'read',
  'GET /api/prices': 'read',
  'PATCH /api/project': 'admin',
  'PATCH /api/routing/objective': 'admin',

  // Arena: battles judged elsewhere are recorded like tasks; a comparison runs two agents, as commands do.
  'GET /api/arena/leaderboard': 'read',
  'GET /api/arena/compare/{comparison_id}': 'read',
  'POST /api/arena/battles': 'ingest',
  'POST /api/arena/compare': 'ingest',
  'POST /api/arena/compare/{comparison_id}/vote': 'feedback',
};

/** The rule of a Hono route (`/api/tasks/:task_id`), or undefined when it has none. */
export function ruleForRoute(
  method: string,
  honoPath: string,
  extraRules: Readonly<Record<string, RouteRule>> = {},
): RouteRule | undefined {
  const key = `${method.toUpperCase()} ${toOpenApiPath(honoPath)}`;
  return ROUTE_RULES[key] ?? extraRules[key];
}

export function toOpenApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
}
