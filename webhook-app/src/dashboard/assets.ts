/**
 * The built files in memory, compressed once (gzip and brotli) at start: the page's script and stylesheet are served
 * from here with their content hash in the name, so browsers keep them for a year and a new build changes the name.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { DashboardManifest } from './build-dashboard.js';

export interface Asset {
  type: string;
  raw: Buffer;
  gzip: Buffer;
  br: Buffer;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export async function loadAssets(dir: string, manifest: DashboardManifest): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const name of manifest.files) {
    const raw = await readFile(path.join(dir, name));
    const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
    assets.set(name, {
      type,
      raw,
      gzip: gzipSync(raw, { level: 9 }),
      br: brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    });
  }
  return assets;
}

/** The encoding to answer with, from Accept-Encoding (brotli, then gzip, else none). */
export function pickEncoding(accept: string | undefined): 'br' | 'gzip' | null {
  const a = (accept ?? '').toLowerCase();
  if (/\bbr\b/.test(a)) return 'br';
  if (/\bgzip\b/.test(a)) return 'gzip';
  return null;
}
