import { createHash } from 'node:crypto';
import type { RequestSpec } from './http-client.js';
import { drawUuid } from './workload.js';

/** The parts of an OpenAPI 3.1 document the fuzzer reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OpenApiOperation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  allOf?: JsonSchema[];
  default?: unknown;
}

export interface FuzzOperation {
  method: string;
  path: string;
  pathParams: { name: string; schema: JsonSchema }[];
  queryParams: { name: string; required: boolean; schema: JsonSchema }[];
  body: JsonSchema | undefined;
}

/** Values that exist in the database under test, so that valid requests reach past the lookups. */
export interface KnownValues {
  userId: string;
  taskIds: readonly string[];
  agentIds: readonly string[];
  categories: readonly string[];
}

/** A generated request, and what it was made of (for the report and the write ledger). */
export interface FuzzRequest {
  operation: FuzzOperation;
  spec: RequestSpec;
  /** The mutations applied; empty for a valid request. */
  mutations: string[];
  pathValues: Record<string, string>;
}

/** The operations of the document, without streams (an SSE answer never ends, by design). */
export function listOperations(document: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const streams = Object.values(operation.responses ?? {}).some(
        (response) => response.content && 'text/event-stream' in response.content,
      );
      if (streams) continue;
      const parameters = operation.parameters ?? [];
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, schema: p.schema ?? { type: 'string' } })),
        queryParams: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({
            name: p.name,
            required: p.required ?? false,
            schema: p.schema ?? { type: 'string' },
          })),
        body: operation.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return operations;
}

/** Generated dates are days before this fixed instant (not before now), so a seed gives the same requests. */
const BASE_TIME = Date.UTC(2025, 0, 1);

const DATES_OUT_OF_RANGE = [
  '9999-12-31T23:59:59Z',
  '0001-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '2024-02-30T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '2099-01-01T00:00:00Z',
  '2024-01-01T00:00:00+25:00',
  'not a date',
  '',
];
const HUGE_NUMBERS = [
  1e308,
  -1e308,
  2 ** 53 + 1,
  2 ** 63,
  2 ** 31,
  -(2 ** 31) - 1,
  -1,
  -0.5,
  1.5,
  0,
  Number.MAX_SAFE_INTEGER,
  5e-324,
];
const UNICODE_TEXTS = [
  '🦄'.repeat(40),
  '\u202Eevil\u202C',
  'e\u0301\u0302\u0303\u0304',
  '\uFEFFbom',
  '\ud800',
  '\udfff\ud800',
  '𝕏'.repeat(300),
  'Ω≈ç√∫˜µ≤≥÷',
  '田中さんにあげて下さい',
  'ثم نفس سقطت وبالتحديد',
  '\u0007\u001b[31mred',
  "'; DROP TABLE tasks; --",
  '%00%ff',
  ['$', '{7*7}{{7*7}}'].join(''),
];
const NUL_TEXTS = ['\u0000', 'a\u0000b', 'research\u0000', '\u0000'.repeat(64)];
const BAD_JSON_BODIES = [
  '{',
  '{"a":1,}',
  'null',
  '[]',
  '"text"',
  '1e999',
  '{"user_rating": 5} trailing',
  '\u0000',
  '',
  '{"a":"\\ud800"}',
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  `{"tasks":[${'{},'.repeat(1500)}{}]}`,
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}',
  '\xff\xfe{',
];
const BAD_PATH_IDS = [
  'not-a-uuid',
  '%00',
  'a%00b',
  '..%2F..%2Fetc%2Fpasswd',
  '00000000-0000-0000-0000-000000000000',
  'x'.repeat(5000),
  '%F0%9F%A6%84',
  "1'%20OR%20'1'%3D'1",
  '%ZZ',
  '-1',
  '99999999999999999999',
  'RESEARCH',
  '%20',
];
const BAD_QUERY_VALUES = [
  '%00',
  '-1',
  '0',
  '1e309',
  '99999999999',
  'abc',
  '',
  '9999-12-31T23:59:59Z',
  '0001-01-01T00:00:00Z',
  '%F0%9F%A6%84',
  'x'.repeat(3000),
  'null',
  '1.5',
];

type Random = () => number;

/** Generates valid requests from the document's schemas, then mutates most of them. */
export class RequestFuzzer {
  private categoryCounter = 0;

  constructor(
    private readonly document: OpenApiDocument,
    private readonly random: Random,
    private readonly known: KnownValues,
    private readonly seed: number,
  ) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let depth = 0; current.$ref && depth < 10; depth++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = this.document.components?.schemas?.[name] ?? {};
    }
    if (current.allOf) {
      const merged: JsonSchema = { properties: {}, required: [] };
      for (const part of current.allOf.map((item) => this.resolve(item))) {
        Object.assign(merged.properties as object, part.properties);
        merged.required?.push(...(part.required ?? []));
        if (part.type) merged.type = part.type;
      }
      return merged;
    }
    return current;
  }

  /** A value the schema accepts (named fields get values that exist in the database). */
  generate(schema: JsonSchema, name = '', depth = 0): unknown {
    const resolved = this.resolve(schema);
    if (resolved.const !== undefined) return resolved.const;
    if (resolved.enum) return this.pick(resolved.enum);
    const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type ?? 'object'];
    const nonNull = types.filter((type) => type !== 'null');
    const type = nonNull.length > 0 ? this.pick(nonNull) : 'null';
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return this.chance(0.5);
      case 'integer':
      case 'number': {
        if (name === 'user_rating') return 1 + Math.floor(this.random() * 5);
        const min = resolved.minimum ?? 0;
        const max = Math.min(resolved.maximum ?? min + 10_000, min + 10_000);
        const value = min + this.random() * (max - min);
        return type === 'integer' ? Math.floor(value) : Math.round(value * 1000) / 1000;
      }
      case 'string':
        return this.generateString(resolved, name);
      case 'array': {
        const min = resolved.minItems ?? 0;
        const max = Math.min(resolved.maxItems ?? 3, Math.max(min, 3));
        const count = min + Math.floor(this.random() * (max - min + 1));
        const itemName = name === 'recommended_agents' ? 'agent_id' : name;
        return Array.from({ length: depth > 3 ? min : count }, () =>
          this.generate(resolved.items ?? {}, itemName, depth + 1),
        );
      }
      default: {
        const object: Record<string, unknown> = {};
        const required = new Set(resolved.required ?? []);
        for (const [key, property] of Object.entries(resolved.properties ?? {})) {
          if (required.has(key) || (depth < 3 && this.chance(0.5)))
            object[key] = this.generate(property, key, depth + 1);
        }
        return object;
      }
    }
  }

  private generateString(schema: JsonSchema, name: string): string {
    if (schema.format === 'uuid') {
      if (name === 'task_id' || (name === '' && this.chance(0.5))) return this.pick(this.known.taskIds);
      return drawUuid(this.random);
    }
    if (schema.format === 'date-time')
      return new Date(BASE_TIME - Math.floor(this.random() * 30 * 86_400_000)).toISOString();
    if (name === 'agent_id' || name === 'agent') return this.pick(this.known.agentIds);
    if (name === 'category' && schema.pattern)
      return this.chance(0.5) ? this.pick(this.known.categories) : this.newCategory();
    if (name === 'objective_category') return this.pick(this.known.categories);
    if (name === 'command')
      return this.pick(['research quantum computing', 'plan the launch', 'review this PR']);
    if (schema.pattern === '^[a-z][a-z0-9_]*$') return this.newCategory();
    if (schema.pattern === '^[a-z0-9_]+$') return this.pick(this.known.agentIds);
    const min = schema.minLength ?? 0;
    const max = Math.min(schema.maxLength ?? 40, Math.max(min, 40));
    const length = Math.max(min, Math.min(max, 1 + Math.floor(this.random() * 30)));
    const letters = 'abcdefghijklmnopqrstuvwxyz ';
    return (
      Array.from({ length }, () => this.pick([...letters]))
        .join('')
        .trim()
        .padEnd(min, 'a') || 'a'
    );
  }

  private newCategory(): string {
    return `fz_${this.seed}_${this.categoryCounter++}`;
  }

  /** One request to `operation`: valid, or with 1-3 mutations. */
  build(operation: FuzzOperation, mutate: boolean): FuzzRequest {
    const mutations: string[] = [];
    const pathValues: Record<string, string> = {};
    for (const param of operation.pathParams) {
      pathValues[param.name] = encodeURIComponent(String(this.generate(param.schema, param.name)));
    }
    const query = new Map<string, string>();
    for (const param of operation.queryParams) {
      if (param.name === 'user_id') query.set('user_id', this.known.userId);
      else if (param.required || this.chance(0.3))
        query.set(param.name, encodeURIComponent(String(this.generate(param.schema, param.name))));
    }
    let body: unknown = operation.body ? this.generate(operation.body) : undefined;
    let headers: Record<string, string> | undefined;
    const count = mutate ? 1 + Math.floor(this.random() * 3) : 0;
    for (let i = 0; i < count; i++) {
      const kinds = [
        ...(operation.body
          ? ['wrong-type', 'huge-number', 'nul', 'unicode', 'long-string', 'missing-field']
          : []),
        ...(operation.body ? ['extra-field', 'bad-date', 'null-field', 'bad-json', 'content-type'] : []),
        ...(operation.pathParams.length > 0 ? ['bad-path-id', 'bad-path-id'] : []),
        'bad-query',
        'nul-query',
      ];
      const kind = this.pick(kinds);
      mutations.push(kind);
      switch (kind) {
        case 'bad-path-id': {
          const param = this.pick(operation.pathParams);
          pathValues[param.name] = this.pick(BAD_PATH_IDS);
          break;
        }
        case 'bad-query': {
          const names = [...operation.queryParams.map((param) => param.name), 'user_id', 'extra'];
          const name = this.pick(names);
          if (name === 'user_id' && this.chance(0.3)) query.delete('user_id');
          else query.set(name, this.pick(BAD_QUERY_VALUES));
          break;
        }
        case 'nul-query': {
          const names = [...operation.queryParams.map((param) => param.name), 'category'];
          query.set(this.pick(names), this.pick(['%00', 'a%00', '%00%00', 'research%00']));
          break;
        }
        case 'bad-json':
          body = this.pick(BAD_JSON_BODIES);
          break;
        case 'content-type':
          headers = {
            'content-type': this.pick([
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/xml',
              '',
            ]),
          };
          break;
        default:
          if (typeof body === 'object' && body !== null) body = this.mutateBody(body, kind);
      }
    }
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => pathValues[name] ?? '');
    const search = [...query.entries()].map(([name, value]) => `${name}=${value}`).join('&');
    return {
      operation,
      mutations,
      pathValues,
      spec: {
        method: operation.method,
        path: search ? `${path}?${search}` : path,
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      },
    };
  }

  /** Applies one mutation to a (deep-copied) JSON body. */
  private mutateBody(body: object, kind: string): unknown {
    const copy = structuredClone(body) as Record<string, unknown>;
    const leaves = collectLeaves(copy);
    const leaf = leaves.length > 0 ? this.pick(leaves) : undefined;
    const set = (value: unknown) => {
      if (leaf) leaf.parent[leaf.key as never] = value as never;
      else copy[`field_${Math.floor(this.random() * 10)}`] = value;
    };
    switch (kind) {
      case 'wrong-type':
        set(
          this.pick<unknown>([
            'text',
            42,
            true,
            [],
            {},
            [1, 2],
            { nested: { deeper: 1 } },
            '5',
            typeof leaf?.value === 'number' ? String(leaf.value) : 7,
          ]),
        );
        break;
      case 'huge-number':
        set(this.pick(HUGE_NUMBERS));
        break;
      case 'nul':
        set(typeof leaf?.value === 'string' ? `${leaf.value}\u0000` : this.pick(NUL_TEXTS));
        break;
      case 'unicode':
        set(this.pick(UNICODE_TEXTS));
        break;
      case 'long-string':
        set('x'.repeat(this.pick([101, 201, 10_001, 20_001, 100_000, 1_000_001])));
        break;
      case 'missing-field': {
        const keys = Object.keys(copy);
        if (keys.length > 0) delete copy[this.pick(keys)];
        break;
      }
      case 'extra-field':
        copy[this.pick(['extra_field', 'user_id', 'is_admin', 'created_at', 'score'])] = this.pick<unknown>([
          1,
          'x',
          null,
          { a: 1 },
        ]);
        break;
      case 'bad-date': {
        const field = this.pick(['completed_at', 'started_at', leaf?.key ?? 'completed_at']);
        if (leaf && (leaf.key === 'started_at' || leaf.key === 'completed_at'))
          set(this.pick(DATES_OUT_OF_RANGE));
        else copy[String(field)] = this.pick(DATES_OUT_OF_RANGE);
        break;
      }
      case 'null-field':
        set(null);
        break;
    }
    return copy;
  }

  /** A fingerprint of a request list, to show that the same seed sends the same requests. */
  static fingerprint(requests: readonly FuzzRequest[]): string {
    const hash = createHash('sha256');
    for (const request of requests)
      hash.update(`${request.spec.method} ${request.spec.path} ${JSON.stringify(request.spec.body ?? '')}\n`);
    return hash.digest('hex').slice(0, 12);
  }
}

interface Leaf {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
  value: unknown;
}

/** Every primitive value of a JSON value, with its parent and key (to replace it). */
function collectLeaves(value: unknown, leaves: Leaf[] = []): Leaf[] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (item !== null && typeof item === 'object') collectLeaves(item, leaves);
      else leaves.push({ parent: value, key: index, value: item });
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (item !== null && typeof item === 'object') collectLeaves(item, leaves);
      else leaves.push({ parent: value as Record<string, unknown>, key, value: item });
    }
  }
  return leaves;
}
