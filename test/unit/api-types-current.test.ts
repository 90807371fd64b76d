import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  buildOpenApiDocument,
  GENERATED_API_TYPE_FILES,
  renderApiTypes,
} from '../../scripts/generate-api-types.js';

describe('generated API types', () => {
  it('match the OpenAPI document the server serves (run `npm run generate:api-types` when this fails)', async () => {
    const document = await buildOpenApiDocument();
    expect(Object.keys(document.paths as object)).toContain('/api/tasks');
    const expected = await renderApiTypes(document);
    for (const file of GENERATED_API_TYPE_FILES) {
      const current = await fs.readFile(file, 'utf8');
      expect(current === expected, `${file} is stale: run npm run generate:api-types`).toBe(true);
    }
  }, 60_000);
});
