/**
 * Hashes of secrets (API keys, CLI tokens, session cookies, invitation tokens): HMAC-SHA256 with the server's
 * pepper. The secrets are 178 random bits, so a fast keyed hash is right (a slow password hash buys nothing and would
 * cost the 1 ms budget); the pepper keeps a stolen table useless without the server's secret.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatToken, type TokenKind } from '@wharf/contracts';

export const hashSecret = (pepper: Buffer, secret: string): Buffer => createHmac('sha256', pepper).update(secret).digest();

export const newToken = (kind: TokenKind): string => formatToken(kind, randomBytes(30));

/** An opaque random secret (session cookies, invitation tokens, CSRF tokens). */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The pepper: the setting, or one generated once into `<dataDir>/secrets/api-pepper` (mode 600). */
export async function loadPepper(setting: string | undefined, dataDir: string): Promise<Buffer> {
  if (setting) return Buffer.from(setting, 'utf8');
  const file = path.join(dataDir, 'secrets', 'api-pepper');
  if (existsSync(file)) return Buffer.from((await readFile(file, 'utf8')).trim(), 'utf8');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await chmod(file, 0o600);
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'utf8');
}
