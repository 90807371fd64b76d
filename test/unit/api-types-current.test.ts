import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  buildOpenApiDocument,
  GENERATED_API_TYPE_FILES,
  renderApiTypes,
} from '../../scripts/generate-api-types.js';

/** The first line where two texts differ, to show in the failure (the files are thousands of lines). */
function describeFirstDifference(current: string, expected: string): string {
  const have = current.split('\n');
  const want = expected.split('\n');
  const index = have.findIndex((line, i) => line !== want[i]);
  const line = index === -1 ? have.length : index;
  return `first difference at line ${line + 1}: has ${JSON.stringify(have[line] ?? '<end>')}, the document gives ${JSON.stringify(want[line] ?? '<end>')}`;
}

describe('generated API types', () => {
  it('match the OpenAPI document the server serves (run `npm run generate:api-types` when this fails)', async () => {
    const document = await buildOpenApiDocument();
    expect(Object.keys(document.paths as object)).toContain('/api/tasks/batch');
    const expected = await renderApiTypes(document);
    for (const file of GENERATED_API_TYPE_FILES) {
      const current = await fs.readFile(file, 'utf8');
      const why = current === expected ? '' : describeFirstDifference(current, expected);
      expect(current === expected, `${file} is stale (${why}): run npm run generate:api-types`).toBe(true);
    }
  }, 60_000);
});
