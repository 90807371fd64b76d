import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultData } from '../../src/db/default-data.js';
import {
  exportFileName,
  formatCsvCell,
  formatCsvRecord,
  toJsonValue,
} from '../../src/export/export-format.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey, insertProject } from '../../src/identity/identity.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, OTHER_USER, type TestApp, USER } from '../support/app.js';

/** A strict RFC 4180 reader: CRLF record ends, quoted fields with doubled quotes; anything else throws. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; ) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (char === '"') {
        quoted = false;
        i += 1;
      } else {
        field += char;
        i += 1;
      }
      continue;
    }
    if (char === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
      i += 1;
    } else if (char === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (char === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`CR without LF at ${i}`);
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (char === '\n') {
      throw new Error(`a bare LF at ${i}`);
    } else {
      field += char;
      i += 1;
    }
  }
  if (quoted || field !== '' || record.length > 0) throw new Error('the last record does not end in CRLF');
  return records;
}

/** The CSV as objects keyed by the header record (every record as long as the header). */
function readCsv(text: string): Record<string, string>[] {
  const [header, ...records] = parseCsv(text);
  if (!header) throw new Error('no header record');
  return records.map((values) => {
    expect(values).toHaveLength(header.length);
    return Object.fromEntries(header.map((name, index) => [name, values[index] as string]));
  });
}

async function download(
  app: TestApp,
  path: string,
  options: { user?: string | null; headers?: Record<string, string> } = {},
) {
  const user = options.user === undefined ? USER : options.user;
  const url = user === null ? path : `${path}${path.includes('?') ? '&' : '?'}user_id=${user}`;
  const response = await app.app.request(url, { headers: options.headers ?? {} });
  return { response, text: await response.text() };
}

async function createTask(
  app: TestApp,
  input: {
    command: string;
    agent_id?: string;
    category?: string;
    model?: string;
    tokens?: boolean;
    user?: string;
  },
): Promise<string> {
  const created = await app.call(
    'POST',
    '/api/tasks',
    {
      agent_id: input.agent_id ?? 'agent_a',
      command: input.command,
      objective_category: input.category ?? 'research',
    },
    { user: input.user ?? USER },
  );
  expect(created.status).toBe(201);
  const completed = await app.call(
    'POST',
    `/api/tasks/${created.body.id}/complete`,
    {
      result: 'done',
      model: input.model ?? 'gpt-4o-mini',
      ...(input.tokens === false ? {} : { prompt_tokens: 1000, completion_tokens: 200 }),
      duration_ms: 4000,
    },
    { user: input.user ?? USER },
  );
  expect(completed.status).toBe(200);
  return created.body.id as string;
}

describe('exports (embedded PostgreSQL, local mode)', () => {
  let app: TestApp;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    app = await createTestApp('embedded');
    ids.formula = await createTask(app, { command: '=HYPERLINK("http://evil.example","click")' });
    ids.quoted = await createTask(app, { command: 'compare "a", "b"\r\nand then\nsummarize' });
    ids.unpriced = await createTask(app, {
      command: '+1 research the unknown model',
      model: 'mystery-model-9',
    });
    ids.unmetered = await createTask(app, {
      command: '-2 plan without usage',
      category: 'planning',
      tokens: false,
    });
    ids.other = await createTask(app, { command: '@SUM other user task', user: OTHER_USER });
    const rated = await app.call('POST', `/api/tasks/${ids.formula}/feedback`, {
      user_rating: 4,
      user_feedback: '@cmd|calc',
    });
    expect(rated.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('downloads the task history as RFC 4180 CSV that parses, with the attachment headers', async () => {
    const { response, text } = await download(app, '/api/export/tasks?format=csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="merit-tasks-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const rows = readCsv(text);
    expect(rows.map((row) => row.task_id).sort()).toEqual(
      [ids.formula, ids.quoted, ids.unpriced, ids.unmetered].sort(),
    );
    const quoted = rows.find((row) => row.task_id === ids.quoted);
    expect(quoted?.command).toBe('compare "a", "b"\r\nand then\nsummarize');
  });

  it('defuses cells a spreadsheet would run as formulas (= + - @), in commands and feedback', async () => {
    const rows = readCsv((await download(app, '/api/export/tasks')).text);
    const byId = new Map(rows.map((row) => [row.task_id, row]));
    expect(byId.get(ids.formula as string)?.command).toBe('\'=HYPERLINK("http://evil.example","click")');
    expect(byId.get(ids.formula as string)?.user_feedback).toBe("'@cmd|calc");
    expect(byId.get(ids.formula as string)?.user_rating).toBe('4');
    expect(byId.get(ids.unpriced as string)?.command).toBe("'+1 research the unknown model");
    expect(byId.get(ids.unmetered as string)?.command).toBe("'-2 plan without usage");
    // JSON carries text as it is: the protection is for spreadsheets only.
    const json = JSON.parse((await download(app, '/api/export/tasks?format=json')).text);
    const formula = json.rows.find((row: { task_id: string }) => row.task_id === ids.formula);
    expect(formula.command).toBe('=HYPERLINK("http://evil.example","click")');
  });

  it('leaves unknown numbers empty in CSV and null in JSON, never 0', async () => {
    const rows = readCsv((await download(app, '/api/export/tasks')).text);
    const unpriced = rows.find((row) => row.task_id === ids.unpriced);
    expect(unpriced?.estimated_cost_usd).toBe('');
    expect(unpriced?.total_tokens).toBe('1200');
    const unmetered = rows.find((row) => row.task_id === ids.unmetered);
    expect(unmetered?.total_tokens).toBe('');
    expect(unmetered?.prompt_tokens).toBe('');
    expect(unmetered?.user_rating).toBe('');
    const priced = rows.find((row) => row.task_id === ids.quoted);
    expect(Number(priced?.estimated_cost_usd)).toBeGreaterThan(0);

    const { response, text } = await download(app, '/api/export/tasks?format=json');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const json = JSON.parse(text);
    expect(json).toMatchObject({ export: 'tasks', filters: { mine: true } });
    const row = json.rows.find((item: { task_id: string }) => item.task_id === ids.unmetered);
    expect(row.total_tokens).toBeNull();
    expect(row.estimated_cost_usd).toBeNull();
    expect(row.user_rating).toBeNull();
    expect(row.duration_ms).toBe(4000);
  });

  it('exports only what the filters select', async () => {
    const planning = readCsv((await download(app, '/api/export/tasks?category=planning')).text);
    expect(planning.map((row) => row.task_id)).toEqual([ids.unmetered]);
    const other = readCsv((await download(app, '/api/export/tasks?agent_id=agent_b')).text);
    expect(other).toEqual([]);
    const future = readCsv((await download(app, '/api/export/tasks?since=2999-01-01')).text);
    expect(future).toEqual([]);
    const past = readCsv((await download(app, '/api/export/tasks?until=2000-01-01T00:00:00Z')).text);
    expect(past).toEqual([]);
    const running = readCsv((await download(app, '/api/export/tasks?status=running')).text);
    expect(running).toEqual([]);
    const wrong = await app.call('GET', '/api/export/tasks?since=2026-02-01&until=2026-01-01');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'validation_failed', field: 'until' });
    const badFormat = await app.call('GET', '/api/export/tasks?format=xlsx');
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.field).toBe('format');
    const badDate = await app.call('GET', '/api/export/routing-decisions?since=yesterday');
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.field).toBe('since');
  });

  it("takes the stream's text search and 'unrated' filter, as the task list does", async () => {
    const byText = readCsv((await download(app, '/api/export/tasks?q=UNKNOWN%20model')).text);
    expect(byText.map((row) => row.task_id)).toEqual([ids.unpriced]);
    // `%` is a literal character, not a wildcard.
    expect(readCsv((await download(app, '/api/export/tasks?q=%25')).text)).toEqual([]);
    const unrated = readCsv((await download(app, '/api/export/tasks?unrated=true')).text);
    expect(unrated.map((row) => row.task_id).sort()).toEqual(
      [ids.quoted, ids.unpriced, ids.unmetered].sort(),
    );
    const json = JSON.parse((await download(app, '/api/export/tasks?format=json&unrated=true&q=plan')).text);
    expect(json.filters).toMatchObject({ unrated: true, q: 'plan' });
    expect(json.rows.map((row: { task_id: string }) => row.task_id)).toEqual([ids.unmetered]);
    const list = await app.call('GET', '/api/tasks?unrated=true&q=plan');
    expect(list.body.tasks.map((task: { id: string }) => task.id)).toEqual([ids.unmetered]);
    const tooLong = await app.call('GET', `/api/export/tasks?q=${'x'.repeat(201)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.field).toBe('q');
  });

  it("never exports another local user's tasks", async () => {
    const mine = (await download(app, '/api/export/tasks')).text;
    expect(mine).not.toContain(ids.other);
    const theirs = readCsv((await download(app, '/api/export/tasks', { user: OTHER_USER })).text);
    expect(theirs.map((row) => row.task_id)).toEqual([ids.other]);
  });

  it('exports the leaderboard over a range, unknown costs empty', async () => {
    await createTask(app, {
      command: 'only an unknown model',
      agent_id: 'agent_c',
      model: 'mystery-model-9',
    });
    const { response, text } = await download(app, '/api/export/leaderboard?format=csv');
    expect(response.headers.get('content-disposition')).toContain('merit-leaderboard-');
    const rows = readCsv(text);
    const alice = rows.find((row) => row.agent_id === 'agent_a');
    // Both users' tasks: the leaderboard is the project's.
    expect(alice?.total_tasks).toBe('5');
    expect(alice?.rated_tasks).toBe('1');
    const unpricedAgent = rows.find((row) => row.agent_id === 'agent_c');
    expect(unpricedAgent?.total_cost_usd).toBe('');
    expect(unpricedAgent?.avg_cost_per_task_usd).toBe('');
    expect(unpricedAgent?.unpriced_tasks).toBe('1');
    const json = JSON.parse(
      (await download(app, '/api/export/leaderboard?format=json&category=planning')).text,
    );
    expect(json.filters).toMatchObject({ category: 'planning', min_sample: 3 });
    expect(json.rows.map((row: { agent_id: string }) => row.agent_id)).toEqual(['agent_a']);
    expect(json.rows[0].avg_user_rating).toBeNull();
    const empty = JSON.parse(
      (await download(app, '/api/export/leaderboard?format=json&since=2999-01-01')).text,
    );
    expect(empty.rows).toEqual([]);
    const unknown = await app.call('GET', '/api/export/leaderboard?category=astrology');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('category');
  });

  it("exports routing decisions with formulas defused, the user's own only", async () => {
    const sent = await app.call('POST', '/api/commands', { command: '=1+1 research tidal power' });
    expect(sent.status).toBe(202);
    const theirs = await app.call(
      'POST',
      '/api/commands',
      { command: 'plan a launch' },
      { user: OTHER_USER },
    );
    expect(theirs.status).toBe(202);
    const rows = readCsv((await download(app, '/api/export/routing-decisions')).text);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.command).toBe("'=1+1 research tidal power");
    expect(rows[0]?.user_id).toBe(USER);
    expect(rows[0]?.task_id).toBe(sent.body.id);
    expect(rows[0]?.user_rating).toBe('');
    const json = JSON.parse((await download(app, '/api/export/routing-decisions?format=json')).text);
    expect(json.rows[0].user_rating).toBeNull();
    expect(json.rows[0].command).toBe('=1+1 research tidal power');
  });

  it('streams a large export page by page: every row once, in many chunks', async () => {
    const count = 5_000;
    await app.database.pool.query(
      `INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, status, result, created_at, completed_at)
       SELECT $1, $2, 'agent_b', 'bulk task ' || n, 'research', 'completed', 'done',
         now() - interval '1 day' - (n % 7) * interval '1 second', now() - interval '1 day'
       FROM generate_series(1, $3) AS n`,
      [DEFAULT_PROJECT_ID, USER, count],
    );
    // Other tests in this file send commands the router may give to agent_b, now; the bulk rows
    // are a day old, so a window ending an hour ago holds exactly them.
    const until = new Date(Date.now() - 3_600_000).toISOString();
    const response = await app.app.request(
      `/api/export/tasks?agent_id=agent_b&until=${until}&user_id=${USER}`,
    );
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let chunks = 0;
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks += 1;
      text += decoder.decode(value, { stream: true });
    }
    const rows = readCsv(text);
    expect(rows).toHaveLength(count);
    // Rows sharing a timestamp (7 distinct ones) are neither skipped nor repeated across pages.
    expect(new Set(rows.map((row) => row.task_id)).size).toBe(count);
    expect(chunks).toBeGreaterThanOrEqual(count / 500);
    const json = JSON.parse(
      (await download(app, `/api/export/tasks?agent_id=agent_b&until=${until}&format=json`)).text,
    );
    expect(json.rows).toHaveLength(count);
  }, 60_000);
});

describe('exports across projects (required mode)', () => {
  let app: TestApp;
  let ownKey: string;
  let otherKey: string;

  async function createKey(projectId: string): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId,
      name: 'export test',
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes: ['read', 'ingest'],
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_AUTH: 'required' });
    const other = await insertProject(app.ctx.db, { slug: 'other-team', name: 'Other team' });
    await ensureDefaultData(app.ctx.db, other.id);
    ownKey = await createKey(DEFAULT_PROJECT_ID);
    otherKey = await createKey(other.id);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it("gives a project's key none of another project's tasks, decisions or leaderboard", async () => {
    const created = await app.call(
      'POST',
      '/api/tasks/completed',
      {
        agent_id: 'agent_a',
        command: 'secret research of the default project',
        objective_category: 'research',
        status: 'completed',
        result: 'done',
        model: 'gpt-4o',
        started_at: new Date(Date.now() - 60_000).toISOString(),
        completed_at: new Date().toISOString(),
      },
      { user: null, headers: { authorization: `Bearer ${ownKey}` } },
    );
    expect(created.status).toBe(201);
    const own = await download(app, '/api/export/tasks', {
      user: null,
      headers: { authorization: `Bearer ${ownKey}` },
    });
    expect(own.text).toContain('secret research of the default project');
    for (const kind of ['tasks', 'routing-decisions', 'leaderboard']) {
      const { response, text } = await download(app, `/api/export/${kind}?format=json`, {
        user: null,
        headers: { authorization: `Bearer ${otherKey}` },
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(text).rows).toEqual([]);
    }
    const anonymous = await download(app, '/api/export/tasks', { user: null });
    expect(anonymous.response.status).toBe(401);
  });
});

describe('CSV cells (pure)', () => {
  it('defuses text a spreadsheet would run, and leaves numbers, dates and safe text alone', () => {
    expect(formatCsvCell('=1+1')).toBe("'=1+1");
    expect(formatCsvCell('+44 20')).toBe("'+44 20");
    expect(formatCsvCell('-x')).toBe("'-x");
    expect(formatCsvCell('@here')).toBe("'@here");
    expect(formatCsvCell('\tcmd')).toBe("'\tcmd");
    expect(formatCsvCell('a=b')).toBe('a=b');
    expect(formatCsvCell(-0.25)).toBe('-0.25');
    expect(formatCsvCell(0)).toBe('0');
    expect(formatCsvCell(new Date('2026-11-30T05:00:00Z'))).toBe('2026-11-30T05:00:00.000Z');
    expect(formatCsvCell(false)).toBe('false');
  });

  it('writes unknowns and non-finite numbers as empty fields, and quotes what RFC 4180 requires', () => {
    expect(formatCsvCell(null)).toBe('');
    expect(formatCsvCell(undefined)).toBe('');
    expect(formatCsvCell(Number.NaN)).toBe('');
    expect(formatCsvCell('say "hi"')).toBe('"say ""hi"""');
    expect(formatCsvCell('a,b')).toBe('"a,b"');
    expect(formatCsvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(formatCsvRecord(['a', null, 2])).toBe('a,,2\r\n');
    expect(toJsonValue(undefined)).toBeNull();
    expect(toJsonValue(Number.POSITIVE_INFINITY)).toBeNull();
    expect(exportFileName('tasks', 'json', new Date('2026-11-30T23:59:00Z'))).toBe(
      'merit-tasks-2026-11-30.json',
    );
  });
});
