import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Mission Control is browser code: web/tsconfig.json compiles it with the DOM types only (no Node types),
 * and Biome's noRestrictedImports (biome.json, web/src/**) refuses server imports. Both are run here on
 * files that import what web/src must not, and must fail naming why.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const FIXTURE_DIR = path.join(ROOT, 'test-artifacts', `web-boundary-${process.pid}`);

function run(command: string, args: string[], input?: string) {
  const result = spawnSync(path.join(BIN, command), args, { cwd: ROOT, input, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * Biome lints `source` written at `relativePath` (under web/src: where the rule applies); the file is
 * removed at once, whatever the outcome. The name is this process's own, so nothing else writes it.
 */
function lintAs(relativePath: string, source: string) {
  const file = path.join(ROOT, relativePath.replace(/\.ts$/, `-boundary-${process.pid}.ts`));
  fs.writeFileSync(file, source);
  try {
    return run('biome', ['lint', path.relative(ROOT, file)]);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe('the web app cannot import server code', () => {
  beforeAll(() => {
    // A project with web/tsconfig.json's options over one file: compiled as if it were in web/src.
    fs.mkdirSync(FIXTURE_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(FIXTURE_DIR, 'tsconfig.json'),
      JSON.stringify({ extends: '../../web/tsconfig.json', include: ['*.ts'] }),
    );
  });
  afterAll(() => fs.rmSync(FIXTURE_DIR, { recursive: true, force: true }));

  it('fails the web type check for node:fs and for a module of ../../src', () => {
    fs.writeFileSync(
      path.join(FIXTURE_DIR, 'imports-server.ts'),
      [
        "import fs from 'node:fs';",
        "import { loadConfig } from '../../src/config.js';",
        'export const used = [fs, loadConfig];',
        '',
      ].join('\n'),
    );
    const result = run('tsc', ['-p', path.join(FIXTURE_DIR, 'tsconfig.json'), '--noEmit']);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/imports-server\.ts\(1,\d+\): error TS2307: Cannot find module 'node:fs'/);
    // src/config.ts reads process.env and node:path: without Node's types it does not compile here.
    expect(result.output).toMatch(/src\/config\.ts\(\d+,\d+\): error TS(2307|2580|2591)/);
  });

  it('compiles a file that imports only browser code', () => {
    fs.rmSync(path.join(FIXTURE_DIR, 'imports-server.ts'), { force: true });
    fs.writeFileSync(
      path.join(FIXTURE_DIR, 'imports-browser.ts'),
      "import { formatScore } from '../../web/src/lib/format.js';\nexport const score = formatScore(0.5);\n",
    );
    const result = run('tsc', ['-p', path.join(FIXTURE_DIR, 'tsconfig.json'), '--noEmit']);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('fails the web type check for a client call to a path the OpenAPI document does not serve', () => {
    fs.rmSync(path.join(FIXTURE_DIR, 'imports-browser.ts'), { force: true });
    fs.writeFileSync(
      path.join(FIXTURE_DIR, 'client-paths.ts'),
      [
        "import type { ClientPath } from '../../web/src/lib/api-client.js';",
        "export const known: ClientPath[] = ['/tasks', '/tasks/some-id/feedback', '/agents/leaderboard'];",
        "export const unknown: ClientPath = '/no-such-endpoint';",
        '',
      ].join('\n'),
    );
    const result = run('tsc', ['-p', path.join(FIXTURE_DIR, 'tsconfig.json'), '--noEmit']);
    fs.rmSync(path.join(FIXTURE_DIR, 'client-paths.ts'), { force: true });
    expect(result.status).not.toBe(0);
    const errors = result.output.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/client-paths\.ts\(3,\d+\): error TS2322: Type '"\/no-such-endpoint"'/);
  });

  it.each([
    ["import fs from 'node:fs';\nexport const x = fs;\n", 'node:fs'],
    ["import pg from 'pg';\nexport const x = pg;\n", 'pg'],
    ["import { sql } from 'kysely';\nexport const x = sql;\n", 'kysely'],
    [
      "import { loadConfig } from '../../src/config.js';\nexport const x = loadConfig;\n",
      '../../src/config.js',
    ],
    [
      "import { findTaskById } from '../../../src/tasks/tasks.queries.js';\nexport const x = findTaskById;\n",
      '../../../src/tasks/tasks.queries.js',
    ],
  ])('fails the lint of web/src importing %s', (source, imported) => {
    const depth = imported.startsWith('../../../') ? 'web/src/features/x.ts' : 'web/src/x.ts';
    const result = lintAs(depth, source);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('lint/style/noRestrictedImports');
    expect(result.output).toContain('Mission Control runs in the browser');
  });

  it('lints a web/src file importing browser code and a test importing node:fs cleanly', () => {
    expect(
      lintAs(
        'web/src/x.ts',
        "import { formatScore } from './lib/format.js';\nexport const x = formatScore;\n",
      ).status,
    ).toBe(0);
    expect(lintAs('test/web/x.ts', "import fs from 'node:fs';\nexport const x = fs;\n").status).toBe(0);
  });
});
