import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { type Database, KEY_SCOPES, type KeyScope, ROLES, type Role } from '../db/database.js';
import { ensureDefaultData } from '../db/default-data.js';
import { runTransaction } from '../db/transaction.js';
import { recordAudit } from './audit.js';
import { generateKeySecret, hashPassword } from './credentials.js';
import {
  findAccountByEmail,
  findProjectBySlug,
  insertAccount,
  insertApiKey,
  insertProject,
  listApiKeys,
  revokeApiKey,
  upsertMember,
} from './identity.queries.js';
import { DEFAULT_PROJECT_SLUG } from './scope.js';

/** The command-line side of identity: `users create`, `projects create`, `keys create|list|revoke`. */

export const IDENTITY_HELP = `  users create       Create an account (password from stdin, or a prompt) and make it a member
                       --email E  [--owner | --role owner|admin|member|viewer]  [--project SLUG (default)]
  projects create    Create a project with the default agent team and categories
                       <slug> [--name N]
  keys create        Create an API key; prints the key alone on its last line
                       --project SLUG --scopes ingest,feedback,read,admin [--name N] [--origins URL,URL]
  keys list          List a project's keys (never their secrets)   --project SLUG
  keys revoke        Revoke a key   <key_id> --project SLUG`;

const CLI_ACTOR = { kind: 'cli' as const, id: null, label: 'cli' };
const MIN_PASSWORD_CHARS = 10;

const slugSchema = z
  .string()
  .max(50)
  .regex(
    /^[a-z0-9][a-z0-9-]*$/,
    'must be lowercase letters, digits and dashes, starting with a letter or digit',
  );
const emailSchema = z.string().trim().toLowerCase().email('must be an email address').max(254);

export type Print = (line: string) => void;

export class UsageError extends Error {}

export async function runUsersCommand(
  db: Kysely<Database>,
  args: string[],
  io: { print: Print; readPassword: () => Promise<string> },
): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'create')
    throw new UsageError(`Unknown users command '${action ?? ''}' (try: users create)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      owner: { type: 'boolean', default: false },
      role: { type: 'string' },
      project: { type: 'string', default: DEFAULT_PROJECT_SLUG },
    },
  });
  const email = parseOrUsage(emailSchema, values.email, '--email');
  const role: Role = values.owner ? 'owner' : parseOrUsage(z.enum(ROLES), values.role ?? 'member', '--role');
  const project = await requireProject(db, values.project);
  const existing = await findAccountByEmail(db, email);
  let accountId = existing?.id;
  if (!existing) {
    const password = await io.readPassword();
    if (password.length < MIN_PASSWORD_CHARS) {
      throw new UsageError(`The password must be at least ${MIN_PASSWORD_CHARS} characters long`);
    }
    const passwordHash = await hashPassword(password);
    accountId = (await insertAccount(db, { email, passwordHash })).id;
  }
  await runTransaction(db, async (trx) => {
    await upsertMember(trx, { projectId: project.id, accountId: accountId as string, role });
    await recordAudit(trx, {
      projectId: project.id,
      actor: CLI_ACTOR,
      action: 'member.add',
      target: `account ${accountId}`,
      details: { email, role },
    });
  });
  io.print(
    existing
      ? `${email} already had an account (password unchanged); now ${role} of project ${project.slug}.`
      : `Created ${email}, ${role} of project ${project.slug}.`,
  );
}

export async function runProjectsCommand(db: Kysely<Database>, args: string[], print: Print): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'create')
    throw new UsageError(`Unknown projects command '${action ?? ''}' (try: projects create)`);
  const { values, positionals } = parseArgs({
    args: rest,
    options: { name: { type: 'string' } },
    allowPositionals: true,
  });
  const slug = parseOrUsage(slugSchema, positionals[0], 'the project slug');
  if (await findProjectBySlug(db, slug)) throw new UsageError(`Project ${slug} already exists`);
  const project = await runTransaction(db, async (trx) => {
    const created = await insertProject(trx, { slug, name: values.name?.trim() || slug });
    await ensureDefaultData(trx, created.id);
    await recordAudit(trx, {
      projectId: created.id,
      actor: CLI_ACTOR,
      action: 'project.create',
      target: `project ${slug}`,
      details: { name: created.name },
    });
    return created;
  });
  print(`Created project ${project.slug} (${project.id}) with the default agent team and categories.`);
}

export async function runKeysCommand(db: Kysely<Database>, args: string[], print: Print): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      project: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
      origins: { type: 'string' },
    },
    allowPositionals: true,
  });
  const project = await requireProject(db, values.project);
  switch (action) {
    case 'create': {
      const scopes = parseOrUsage(
        z.array(z.enum(KEY_SCOPES)).min(1),
        splitList(values.scopes),
        `--scopes (some of ${KEY_SCOPES.join(',')})`,
      ) as KeyScope[];
      const origins = splitList(values.origins);
      const name = values.name?.trim() || `key ${new Date().toISOString().slice(0, 10)}`;
      const secret = generateKeySecret();
      const key = await runTransaction(db, async (trx) => {
        const created = await insertApiKey(trx, {
          projectId: project.id,
          name,
          prefix: secret.prefix,
          secretHash: secret.secretHash,
          scopes: [...new Set(scopes)],
          allowedOrigins: origins,
          createdBy: 'cli',
          createdByAccountId: null,
        });
        await recordAudit(trx, {
          projectId: project.id,
          actor: CLI_ACTOR,
          action: 'key.create',
          target: `key ${created.id}`,
          details: { name, scopes: created.scopes, allowed_origins: origins },
        });
        return created;
      });
      print(`Created key ${key.id} "${name}" for project ${project.slug}, scopes ${key.scopes.join(',')}.`);
      print('It is shown this once; store it now. Send it as: Authorization: Bearer <key>');
      print(secret.secret);
      return;
    }
    case 'list': {
      const keys = await listApiKeys(db, project.id);
      if (keys.length === 0) print(`Project ${project.slug} has no API keys.`);
      for (const key of keys) {
        const state = key.revoked_at ? `revoked ${new Date(key.revoked_at).toISOString()}` : 'active';
        const used = key.last_used_at ? new Date(key.last_used_at).toISOString() : 'never used';
        print(
          `${key.id}  merit_${key.prefix}  ${key.name}  [${key.scopes.join(',')}]  ${state}  created ${key.created_at.toISOString()} by ${key.created_by}  ${used}`,
        );
      }
      return;
    }
    case 'revoke': {
      const keyId = parseOrUsage(z.guid(), positionals[0], 'the key id');
      const revoked = await runTransaction(db, async (trx) => {
        const row = await revokeApiKey(trx, project.id, keyId);
        if (!row) throw new UsageError(`Project ${project.slug} has no key ${keyId}`);
        await recordAudit(trx, {
          projectId: project.id,
          actor: CLI_ACTOR,
          action: 'key.revoke',
          target: `key ${row.id}`,
          details: { name: row.name },
        });
        return row;
      });
      print(`Revoked key ${revoked.id} "${revoked.name}".`);
      return;
    }
    default:
      throw new UsageError(
        `Unknown keys command '${action ?? ''}' (try: keys create, keys list, keys revoke)`,
      );
  }
}

async function requireProject(db: Kysely<Database>, slug: string | undefined) {
  if (slug === undefined) throw new UsageError('--project is required');
  const project = await findProjectBySlug(db, slug);
  if (!project)
    throw new UsageError(`No project ${slug} (create it with: npx merit projects create ${slug})`);
  return project;
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function parseOrUsage<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UsageError(
      `${what}: ${value === undefined ? 'is required' : (parsed.error.issues[0]?.message ?? 'is invalid')}`,
    );
  }
  return parsed.data;
}

/** The password: the first line of stdin when it is piped, else typed at a prompt that does not echo. */
export async function readPasswordFromTerminal(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write('Password: ');
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise<string>((resolve, reject) => {
    let password = '';
    const onData = (key: string) => {
      for (const char of key) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(password);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new UsageError('Cancelled'));
          return;
        }
        if (char === '\u007f') password = password.slice(0, -1);
        else password += char;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
