import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, buildApiUrl, createApiClient, parseErrorBody } from '../../web/src/lib/api-client.js';

const USER = '00000000-0000-0000-0000-000000000001';

interface SeenRequest {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

const seen: SeenRequest[] = [];
let server: Server;
let baseUrl: string;

function send(response: ServerResponse, status: number, body: string, type = 'application/json') {
  response.writeHead(status, { 'content-type': type });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = await readBody(request);
    seen.push({
      method: request.method ?? '',
      url: request.url ?? '',
      contentType: request.headers['content-type'],
      body,
    });
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/api/commands') {
      const { command } = JSON.parse(body) as { command: string };
      if (command.startsWith('@nobody')) {
        send(
          response,
          400,
          JSON.stringify({ error: { code: 'unknown_agent_mention', message: 'No agent is called @nobody' } }),
        );
        return;
      }
      send(response, 202, JSON.stringify({ id: 't1', status: 'queued', command }));
      return;
    }
    if (path === '/api/tasks/t1/feedback') {
      send(
        response,
        400,
        JSON.stringify({
          error: {
            code: 'validation_failed',
            message: 'user_rating: Number must be <= 5',
            field: 'user_rating',
          },
        }),
      );
      return;
    }
    if (path === '/api/tasks/t2/feedback') {
      send(response, 200, JSON.stringify({ success: true, message: 'Feedback submitted successfully' }));
      return;
    }
    if (path === '/api/agents/leaderboard') {
      send(response, 200, JSON.stringify({ rankings: [], category: null, last_updated: null }));
      return;
    }
    if (path === '/api/agents') {
      send(response, 502, '<html>Bad gateway</html>', 'text/html');
      return;
    }
    send(response, 500, 'Internal Server Error', 'text/plain');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

describe('api client against an HTTP server', () => {
  it('posts a command as JSON with the user id in the query', async () => {
    const client = createApiClient({ userId: USER, baseUrl });
    const task = await client.postCommand('@bob research quantum computing');
    expect(task).toMatchObject({ id: 't1', status: 'queued' });
    const request = seen.at(-1);
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(`/api/commands?user_id=${USER}`);
    expect(request?.contentType).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({ command: '@bob research quantum computing' });
  });

  it("surfaces the server's error code and message", async () => {
    const client = createApiClient({ userId: USER, baseUrl });
    const error = await client.postCommand('@nobody do it').catch((cause: unknown) => cause);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 400,
      code: 'unknown_agent_mention',
      message: 'No agent is called @nobody',
    });
  });

  it('keeps the field of a validation error', async () => {
    const client = createApiClient({ userId: USER, baseUrl });
    const error = await client.submitFeedback('t1', 9).catch((cause: unknown) => cause);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', field: 'user_rating' });
    expect((error as ApiError).message).toBe('user_rating: Number must be <= 5');
  });

  it('sends the comment only when there is one', async () => {
    const client = createApiClient({ userId: USER, baseUrl });
    await client.submitFeedback('t2', 4);
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ user_rating: 4 });
    const result = await client.submitFeedback('t2', 5, 'Great job!');
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual({ user_rating: 5, user_feedback: 'Great job!' });
    expect(result).toEqual({ success: true, message: 'Feedback submitted successfully' });
  });

  it('passes the category filter and leaves out empty query values', async () => {
    const client = createApiClient({ userId: USER, baseUrl });
    await client.getLeaderboard({ category: 'research' });
    expect(seen.at(-1)?.url).toBe(`/api/agents/leaderboard?user_id=${USER}&category=research`);
    await client.getLeaderboard({});
    expect(seen.at(-1)?.url).toBe(`/api/agents/leaderboard?user_id=${USER}`);
  });

  it('explains a non-JSON error page without showing its markup', async () => {
    const client = createApiClient({ userId: USER, baseUrl });
    const error = await client.listAgents().catch((cause: unknown) => cause);
    expect(error).toMatchObject({ status: 502, code: 'http_error' });
    expect((error as ApiError).message).not.toContain('<html>');
  });

  it('reports an unreachable server as a network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = createApiClient({ userId: USER, baseUrl: `http://127.0.0.1:${port}` });
    const error = await client.listAgents().catch((cause: unknown) => cause);
    expect(error).toMatchObject({ status: 0, code: 'network_error' });
  });
});

describe('parseErrorBody', () => {
  it('reads the contract error shape', () => {
    const error = parseErrorBody(
      409,
      '{"error":{"code":"task_not_completed","message":"Task is still running"}}',
    );
    expect(error).toMatchObject({
      status: 409,
      code: 'task_not_completed',
      message: 'Task is still running',
    });
  });

  it('falls back to a status message for bodies without an error message', () => {
    expect(parseErrorBody(500, 'oops').message).toMatch(/HTTP 500/);
    expect(parseErrorBody(404, '{"error":{"code":"x"}}').message).toMatch(/HTTP 404/);
    expect(parseErrorBody(413, '').message).toMatch(/too large/);
    expect(parseErrorBody(400, 'null').code).toBe('http_error');
  });
});

describe('buildApiUrl', () => {
  it('encodes the user id and values', () => {
    expect(buildApiUrl('', '/tasks', 'a b', { cursor: 'eyJrIjoidGFza3MifQ==', limit: 50 })).toBe(
      '/api/tasks?user_id=a+b&cursor=eyJrIjoidGFza3MifQ%3D%3D&limit=50',
    );
  });
});
