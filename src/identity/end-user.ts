import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { ValidationError } from '../errors.js';

/**
 * The end user a key's request acts for: `user_id` as given when it is a UUID, else a UUID derived from
 * the project and the string (RFC 9562 version 5), so any string id of the host app names one user.
 */
export function endUserId(projectId: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > 200) throw new ValidationError('user_id', 'must be at most 200 characters');
  const uuid = z.guid().safeParse(raw);
  if (uuid.success) return uuid.data.toLowerCase();
  return uuidV5(projectId, raw);
}

function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
