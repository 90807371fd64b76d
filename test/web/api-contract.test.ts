import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * Checks the web app's hand-written wire types (web/src/lib/api-types.ts) and the paths its client calls
 * (web/src/lib/api-client.ts) against the OpenAPI document the server really serves.
 */

const WEB_LIB = path.resolve(import.meta.dirname, '..', '..', 'web', 'src', 'lib');

/**
 * Web type -> where its shape lives in the document: a component schema name, then `.property` to go into
 * an object and `[]` to go into an array's items.
 */
const CONTRACT: Record<string, string> = {
  Agent: 'Agent',
  Node: 'Node',
  Score: 'Score',
  Task: 'Task',
  TaskPage: 'TaskPage',
  Ranking: 'Ranking',
  AgentStats: 'Ranking',
  Leaderboard: 'Leaderboard',
  CategoryStats: 'CategoryStats',
  ScoredTask: 'ScoredTask',
  AgentPerformance: 'AgentPerformance',
  NodeStats: 'NodeStats',
  TrendPoint: 'TrendPoint',
  CostQualityCell: 'CostQualityCell',
  FeedbackResult: 'FeedbackResult',
  TaskEvaluation: 'TaskEvaluation',
  EvaluationState: 'EvaluationState',
  ScoreWithSource: 'ScoreWithSource',
  EvaluatorVerdict: 'TaskEvaluation.evaluations[]',
  EvaluatorUsage: 'TaskEvaluation.evaluations[].usage',
  PeerReview: 'TaskEvaluation.peer_reviews[]',
  EvaluatorState: 'EvaluatorState',
  EvaluatorSpend: 'EvaluatorSpend',
  AppliedReward: 'TaskEvaluation.rewards.applied[]',
  ExternalScore: 'TaskEvaluation.external_scores[]',
  ReviewerAgreement: 'ReviewerAgreement',
  AgentEvaluation: 'AgentEvaluation',
  RoutingCandidateRow: 'RoutingCandidateRow',
  ScoreInterval: 'AgentEvaluation.interval',
  RoutingConstraints: 'RoutingDecision.constraints',
  StoredRoutingDecision: 'StoredRoutingDecision',
  RoutingOutcome: 'StoredRoutingDecision.outcome',
  RoutingQuality: 'RoutingQuality',
  RoutingQualityDay: 'RoutingQualityDay',
  AuthSession: 'Session',
  Account: 'Session.account',
  Project: 'Session.project',
  ProjectMembership: 'Session.projects[]',
  ApiKey: 'ApiKey',
  CreatedApiKey: 'CreatedApiKey',
};

type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';
/** The JSON kinds a type admits; null when it admits anything (unknown, an empty schema). */
type Kinds = Set<Kind> | null;

interface JsonSchema {
  type?: string | string[];
  $ref?: string;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> };
}

interface WebProperty {
  name: string;
  optional: boolean;
  type: ts.TypeNode | undefined;
}

function parseSource(file: string): ts.SourceFile {
  const fullPath = path.join(WEB_LIB, file);
  return ts.createSourceFile(fullPath, fs.readFileSync(fullPath, 'utf8'), ts.ScriptTarget.Latest, true);
}

/** Every interface and type alias declared at the top of a file, by name. */
function collectDeclarations(source: ts.SourceFile) {
  const declarations = new Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>();
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
      declarations.set(statement.name.text, statement);
    }
  }
  return declarations;
}

const source = parseSource('api-types.ts');
const declarations = collectDeclarations(source);

function readMembers(members: ts.NodeArray<ts.TypeElement>): WebProperty[] {
  return members.filter(ts.isPropertySignature).map((member) => ({
    name: member.name.getText(source),
    optional: member.questionToken !== undefined,
    type: member.type,
  }));
}

/** The properties of a web type (an interface, or an alias of an object type or of another interface). */
function readWebProperties(name: string): WebProperty[] {
  const declaration = declarations.get(name);
  if (!declaration) throw new Error(`api-types.ts declares no type ${name}`);
  if (ts.isInterfaceDeclaration(declaration)) {
    // `interface A extends B` has B's properties too.
    const inherited = (declaration.heritageClauses ?? []).flatMap((clause) =>
      clause.types.flatMap((type) => readWebProperties(type.expression.getText(source))),
    );
    return [...inherited, ...readMembers(declaration.members)];
  }
  const aliased = declaration.type;
  if (ts.isTypeLiteralNode(aliased)) return readMembers(aliased.members);
  if (ts.isTypeReferenceNode(aliased)) return readWebProperties(aliased.typeName.getText(source));
  throw new Error(`${name} is not an object type`);
}

function union(sets: Kinds[]): Kinds {
  if (sets.some((set) => set === null)) return null;
  return new Set(sets.flatMap((set) => [...(set as Set<Kind>)]));
}

function classifyWebType(node: ts.TypeNode): Kinds {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return new Set(['string']);
    case ts.SyntaxKind.NumberKeyword:
      return new Set(['number']);
    case ts.SyntaxKind.BooleanKeyword:
      return new Set(['boolean']);
    case ts.SyntaxKind.UnknownKeyword:
    case ts.SyntaxKind.AnyKeyword:
      return null;
  }
  if (ts.isLiteralTypeNode(node)) {
    const literal = node.literal;
    if (literal.kind === ts.SyntaxKind.NullKeyword) return new Set(['null']);
    if (literal.kind === ts.SyntaxKind.TrueKeyword || literal.kind === ts.SyntaxKind.FalseKeyword) {
      return new Set(['boolean']);
    }
    if (ts.isStringLiteral(literal)) return new Set(['string']);
    if (ts.isNumericLiteral(literal)) return new Set(['number']);
  }
  if (ts.isUnionTypeNode(node)) return union(node.types.map(classifyWebType));
  if (ts.isParenthesizedTypeNode(node)) return classifyWebType(node.type);
  if (ts.isArrayTypeNode(node)) return new Set(['array']);
  if (ts.isTypeLiteralNode(node) || ts.isMappedTypeNode(node)) return new Set(['object']);
  if (ts.isIndexedAccessTypeNode(node)) {
    // `(typeof CATEGORIES)[number]` and the like: a string union in this file.
    return new Set(['string']);
  }
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText(source);
    if (name === 'Array' || name === 'ReadonlyArray') return new Set(['array']);
    if (name === 'Record' || name === 'Omit' || name === 'Pick' || name === 'Partial')
      return new Set(['object']);
    if (name === 'NonNullable' && node.typeArguments?.[0]) {
      const inner = classifyWebType(node.typeArguments[0]);
      return inner === null ? null : new Set([...inner].filter((kind) => kind !== 'null'));
    }
    const declaration = declarations.get(name);
    if (declaration && ts.isInterfaceDeclaration(declaration)) return new Set(['object']);
    if (declaration && ts.isTypeAliasDeclaration(declaration)) return classifyWebType(declaration.type);
  }
  throw new Error(`cannot classify the web type ${node.getText(source)}`);
}

function resolveRef(document: OpenApiDocument, schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = document.components.schemas[name];
  if (!target) throw new Error(`dangling $ref ${schema.$ref}`);
  return resolveRef(document, target);
}

function classifySchema(document: OpenApiDocument, schema: JsonSchema): Kinds {
  if (schema.$ref) return classifySchema(document, resolveRef(document, schema));
  const parts = schema.allOf ?? schema.anyOf ?? schema.oneOf;
  if (parts) {
    const kinds = parts.map((part) => classifySchema(document, part));
    // allOf [Ranking, {type: [object, null]}] is zod's nullable reference: an object or null.
    return union(kinds);
  }
  if (schema.type === undefined) return schema.enum ? new Set(['string']) : null;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return new Set(types.map((type) => (type === 'integer' ? 'number' : type) as Kind));
}

/** Follows `Name.property[].property` from a component schema to the object schema it names. */
function locateSchema(document: OpenApiDocument, location: string): JsonSchema {
  const [name, ...rest] = location.split('.');
  let schema = document.components.schemas[name as string];
  if (!schema) throw new Error(`the OpenAPI document has no component schema ${name}`);
  for (const segment of rest) {
    const property = segment.replace('[]', '');
    schema = readSchemaObject(document, resolveRef(document, schema)).properties[property];
    if (!schema) throw new Error(`${location}: no property ${property}`);
    if (segment.endsWith('[]')) {
      schema = resolveRef(document, schema).items;
      if (!schema) throw new Error(`${location}: ${property} is not an array`);
    }
  }
  return resolveRef(document, schema);
}

/** The schema's own properties and required list (allOf parts merged). */
function readSchemaObject(document: OpenApiDocument, schema: JsonSchema) {
  const parts = schema.allOf ? schema.allOf.map((part) => resolveRef(document, part)) : [schema];
  const properties: Record<string, JsonSchema> = {};
  const required = new Set<string>();
  for (const part of parts) {
    Object.assign(properties, part.properties ?? {});
    for (const name of part.required ?? []) required.add(name);
  }
  return { properties, required };
}

function describeKinds(kinds: Kinds): string {
  return kinds === null ? 'any' : [...kinds].sort().join(' | ');
}

/** Every mismatch between a web type and its schema, as readable lines. */
function compareWebType(document: OpenApiDocument, webName: string, location: string): string[] {
  const { properties, required } = readSchemaObject(document, locateSchema(document, location));
  const problems: string[] = [];
  for (const property of readWebProperties(webName)) {
    const schema = properties[property.name];
    const where = `${webName}.${property.name} (${location})`;
    if (!schema) {
      problems.push(`${where}: not in the OpenAPI schema`);
      continue;
    }
    if (required.has(property.name) && property.optional) {
      problems.push(`${where}: required by the server but optional in the web type`);
    }
    if (!required.has(property.name) && !property.optional) {
      problems.push(`${where}: optional in the server's schema but required in the web type`);
    }
    const webKinds = property.type ? classifyWebType(property.type) : null;
    const schemaKinds = classifySchema(document, schema);
    if (webKinds === null || schemaKinds === null) continue;
    if (describeKinds(webKinds) !== describeKinds(schemaKinds)) {
      problems.push(
        `${where}: web type is ${describeKinds(webKinds)}, schema is ${describeKinds(schemaKinds)}`,
      );
    }
  }
  return problems;
}

/** `/tasks/${id(taskId)}/evaluation` -> `/tasks/{}/evaluation`. */
function readPathArgument(node: ts.Expression): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    return node.head.text + node.templateSpans.map((span) => `{}${span.literal.text}`).join('');
  }
  return null;
}

/** Every API call the client makes: the method ('GET', 'POST'; 'ANY' for a URL it only builds) and path. */
function collectClientCalls(): { method: string; path: string }[] {
  const client = parseSource('api-client.ts');
  const calls: { method: string; path: string }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
      const [first, second] = node.arguments;
      if (node.expression.text === 'request' && first && second && ts.isStringLiteral(first)) {
        const callPath = readPathArgument(second);
        if (callPath !== null) calls.push({ method: first.text, path: callPath });
      }
      const [, pathArgument] = node.arguments;
      if (node.expression.text === 'buildApiUrl' && pathArgument) {
        const callPath = readPathArgument(pathArgument);
        if (callPath !== null) calls.push({ method: 'ANY', path: callPath });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(client);
  return calls;
}

describe('the web client against the OpenAPI document', () => {
  let app: TestApp;
  let document: OpenApiDocument;

  beforeAll(async () => {
    app = await createTestApp();
    const { status, body } = await app.call('GET', '/api/openapi.json', undefined, { user: null });
    expect(status).toBe(200);
    document = body as OpenApiDocument;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('maps every web type that has properties (so a new one cannot be forgotten)', () => {
    const objectTypes = [...declarations.entries()]
      .filter(([, declaration]) => {
        if (ts.isInterfaceDeclaration(declaration)) return true;
        return ts.isTypeLiteralNode(declaration.type) || ts.isTypeReferenceNode(declaration.type);
      })
      .map(([name]) => name);
    expect(objectTypes.filter((name) => !(name in CONTRACT))).toEqual([]);
  });

  it.each(Object.entries(CONTRACT))('declares %s exactly as the schema %s', (webName, location) => {
    expect(compareWebType(document, webName, location)).toEqual([]);
  });

  it('finds a mismatch when there is one (the checker is not vacuous)', () => {
    const broken: OpenApiDocument = structuredClone(document);
    const agent = broken.components.schemas.Agent as JsonSchema;
    agent.properties = { ...agent.properties, nickname: { type: ['string', 'null'] } };
    delete agent.properties.running_tasks;
    expect(compareWebType(broken, 'Agent', 'Agent')).toEqual([
      'Agent.nickname (Agent): web type is string, schema is null | string',
      'Agent.running_tasks (Agent): not in the OpenAPI schema',
    ]);
  });

  it('calls only paths and methods the server documents', () => {
    const calls = collectClientCalls();
    expect(calls.length).toBeGreaterThan(10);
    const documented = new Map(
      Object.entries(document.paths).map(([documentedPath, operations]) => [
        documentedPath.replace(/^\/api/, '').replace(/\{[^}]+\}/g, '{}'),
        Object.keys(operations).map((method) => method.toUpperCase()),
      ]),
    );
    const missing = calls.filter((call) => {
      const methods = documented.get(call.path);
      return methods === undefined || (call.method !== 'ANY' && !methods.includes(call.method));
    });
    expect(missing).toEqual([]);
  });
});
