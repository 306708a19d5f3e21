import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { RUNTIME_RESERVED_PREFIX } from '@wharf/contracts/runtime-protocol';
import type { ModuleSpec } from '../config/app-config.js';
import { isInside } from '../confine/path-policy.js';
import type { HttpAnswer, HttpRequest } from '../http/http-types.js';
import { type ModuleDeps, type RuntimeModule, whereInModule } from './module.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

const forbidden: HttpAnswer = { status: 403, body: { error: 'forbidden' } };

/**
 * Serves files under `root` at `prefix`, with an index.html fallback for single-page apps. The root is confined at
 * start (inside the config dir or the data dir, real path); each request is decoded once, refused when it holds
 * a NUL byte or a backslash, checked lexically against the root, and the file found is checked again by its real
 * path, so a symlink inside the root cannot serve a file outside it.
 */
export function createStaticFileserver(spec: ModuleSpec, deps: ModuleDeps): RuntimeModule {
  const cfg = spec.config;
  const root = deps.paths.readable(String(cfg.root ?? '.'), spec.dir, whereInModule(spec, 'root'));
  const prefix = `/${String(cfg.prefix ?? '/').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  if (`${prefix}/`.startsWith(RUNTIME_RESERVED_PREFIX))
    throw new Error(`${whereInModule(spec, 'prefix')}: "${String(cfg.prefix)}" is under ${RUNTIME_RESERVED_PREFIX}, which is reserved for Wharf`);
  const spaFallback = cfg.spaFallback !== false;
  const maxAge = typeof cfg.cacheMaxAge === 'number' ? cfg.cacheMaxAge : 3600;

  async function file(path: string, isFallback: boolean): Promise<HttpAnswer | null> {
    const real = await realpath(path).catch(() => null);
    if (!real) return null;
    if (!isInside(real, root)) return forbidden;
    const st = await stat(real).catch(() => null);
    if (!st?.isFile()) return null;
    return {
      status: 200,
      headers: {
        'content-type': TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': isFallback || real.endsWith('.html') ? 'no-cache' : `public, max-age=${maxAge}`,
        'x-content-type-options': 'nosniff',
      },
      stream: createReadStream(real),
    };
  }

  return {
    name: spec.name,
    type: spec.type,
    registerRoutes(table) {
      const handler = async (req: HttpRequest): Promise<HttpAnswer> => {
        const urlPath = req.path.slice(prefix.length) || '/';
        let decoded: string;
        try {
          decoded = decodeURIComponent(urlPath);
        } catch {
          return { status: 400, body: { error: 'bad path' } };
        }
        if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400, body: { error: 'bad path' } };
        const target = normalize(join(root, decoded));
        if (!isInside(target, root)) return forbidden;
        const found =
          (await file(target, false)) ??
          (await file(join(target, 'index.html'), false)) ??
          (spaFallback && !extname(decoded) ? await file(join(root, 'index.html'), true) : null);
        return found ?? { status: 404, body: { error: 'not found' } };
      };
      table.add('GET', `${prefix}/*`, handler);
      if (prefix) table.add('GET', prefix, handler);
      else table.add('GET', '/', handler);
    },
  };
}
