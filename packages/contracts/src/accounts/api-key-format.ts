/**
 * The shape of Wharf's secrets, recognisable to secret scanners the way GitHub's tokens are: a prefix, 30 random
 * base62 characters and a 6-character CRC32 checksum of them, so a scanner (and Wharf, before any lookup) can tell
 * a real key from a typo without asking the server.
 *   wharf_…  API keys (organization-scoped)      wharfu_…  CLI user tokens (device login)
 */
export const TOKEN_PREFIXES = { apiKey: 'wharf_', userToken: 'wharfu_' } as const;
export type TokenKind = keyof typeof TOKEN_PREFIXES;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = (CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function base62(n: number, width: number): string {
  let out = '';
  for (let v = n; v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(width, '0');
}

/** A token from random bytes (at least 30; the caller draws them from a CSPRNG). */
export function formatToken(kind: TokenKind, random: Uint8Array): string {
  if (random.length < RANDOM_LENGTH) throw new Error(`a token needs ${RANDOM_LENGTH} random bytes`);
  let body = '';
  for (let i = 0; i < RANDOM_LENGTH; i++) body += BASE62[(random[i] ?? 0) % 62];
  return `${TOKEN_PREFIXES[kind]}${body}${base62(crc32(body), CHECKSUM_LENGTH)}`;
}

const SHAPE = /^(wharfu?_)([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;

/** Which kind of token `text` is, when its shape and checksum hold; null otherwise (no lookup needed). */
export function parseToken(text: string): { kind: TokenKind; display: string } | null {
  const m = SHAPE.exec(text);
  if (!m?.[1] || !m[2] || !m[3]) return null;
  if (base62(crc32(m[2]), CHECKSUM_LENGTH) !== m[3]) return null;
  const kind = (Object.keys(TOKEN_PREFIXES) as TokenKind[]).find((k) => TOKEN_PREFIXES[k] === m[1]);
  return kind ? { kind, display: `${m[1]}${m[2].slice(0, 4)}` } : null;
}
