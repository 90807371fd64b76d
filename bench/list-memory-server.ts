/**
 * The server side of bench/list-memory.bench.ts, in a process of its own so that its RSS is Merit's
 * alone: Merit's app over the bench database, plus (for the baseline) the task list as it was before
 * previews: whole rows, texts in full. Reports its peak RSS when asked over IPC.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { loadConfig } from '../src/config.js';
import { connectDatabase } from '../src/db/connect.js';
import { createServices } from '../src/server.js';
import { toTaskView } from '../src/tasks/tasks.js';

const databaseUrl = process.env.BENCH_DATABASE_URL;
if (!databaseUrl || !process.send) throw new Error('Run by bench/list-memory.bench.ts');
// No statement or connect timeouts: the baseline's statements outlast the defaults (that is the bug).
const handle = connectDatabase(databaseUrl, { statementTimeoutMs: 0, acquireTimeoutMs: 600_000 });
const config = loadConfig({
  MERIT_DATA_DIR: '/nonexistent',
  MERIT_WORKER: 'false',
  MERIT_LOG_LEVEL: 'silent',
});
const services = createServices(config, { handle, kind: 'external', label: 'bench' });

/** The list before previews (the query and mapping Merit used until then), for the baseline. */
async function listWholeTasks(userId: string, limit: number): Promise<Response> {
  const rows = await handle.db
    .selectFrom('tasks as t')
    .innerJoin('agents as a', 'a.agent_id', 't.agent_id')
    .selectAll('t')
    .select('a.nickname')
    .where('t.user_id', '=', userId)
    .orderBy('t.created_at', 'desc')
    .orderBy('t.id', 'desc')
    .limit(limit)
    .execute();
  return Response.json({ tasks: rows.map((row) => toTaskView(row, row.nickname)) });
}

// Connections opened up front, so the calls measure serving, not connecting.
await Promise.all(Array.from({ length: 12 }, () => handle.pool.query('SELECT 1')));

let peakRss = process.memoryUsage().rss;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5).unref();

const server = serve(
  {
    fetch: (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/bench/whole-list') {
        return listWholeTasks(
          url.searchParams.get('user_id') ?? '',
          Number(url.searchParams.get('limit')),
        ).catch((error: unknown) => {
          console.error('whole list failed:', error);
          return new Response('failed', { status: 500 });
        });
      }
      return services.app.fetch(request);
    },
    port: 0,
    hostname: '127.0.0.1',
  },
  () => process.send?.({ port: (server.address() as AddressInfo).port }),
);

process.on('message', (message: { type: string }) => {
  if (message.type === 'reset') {
    peakRss = process.memoryUsage().rss;
    process.send?.({ peakRss });
  }
  if (message.type === 'report') process.send?.({ rss: process.memoryUsage().rss, peakRss });
  if (message.type === 'stop') {
    server.close();
    void handle.close().then(() => process.exit(0));
  }
});
