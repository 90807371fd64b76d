import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords, session tokens and API keys. Only Node's crypto (OpenSSL) primitives are used; Merit
 * composes them and writes no cryptography of its own:
 * - passwords: scrypt (memory-hard; N=2^15, r=8, p=1: 32 MiB and about 50 ms per hash), a random
 *   16-byte salt, stored as `scrypt$N$r$p$salt$hash`, so the cost can be raised later and old hashes
 *   still verify;
 * - session tokens and API key secrets: 32 and 24 random bytes, stored as SHA-256 (they carry full
 *   entropy, so a slow hash adds nothing), compared in constant time.
 */

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 } as const;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await runScrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keyLength);
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await runScrypt(
    password,
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
    expected.length,
  );
  return timingSafeEqual(actual, expected);
}

/** A hash to compare against when the account does not exist, so both answers take as long. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString('base64url'));
  return decoyHash;
}

function runScrypt(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number) {
  return new Promise<Buffer>((resolve, reject) => {
    // maxmem above 128 * N * r * p, which is 32 MiB at the defaults.
    scrypt(password, salt, keyLength, { N, r, p, maxmem: 256 * N * r * p }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An API key as shown once to its creator: `merit_<prefix>_<secret>`. */
export interface NewKeySecret {
  readonly secret: string;
  readonly prefix: string;
  readonly secretHash: Buffer;
}

const KEY_PATTERN = /^merit_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/;

export function generateKeySecret(): NewKeySecret {
  const prefix = randomBytes(6).toString('hex');
  const secretPart = randomToken(24);
  return { secret: `merit_${prefix}_${secretPart}`, prefix, secretHash: sha256(secretPart) };
}

/** The lookup prefix and the hash to compare, or undefined when `text` is not shaped like a key. */
export function parseKeySecret(text: string): { prefix: string; secretHash: Buffer } | undefined {
  const match = KEY_PATTERN.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  return { prefix: match[1], secretHash: sha256(match[2]) };
}
