import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { ModuleSpec } from '../config/app-config.js';
import type { HttpAnswer, HttpRequest } from '../http/http-types.js';
import type { RuntimeModule } from './module.js';

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

/** Serves files under `root` at `prefix`, with an index.html fallback for single-page apps. */
export function createStaticFileserver(spec: ModuleSpec): RuntimeModule {
  const cfg = spec.config;
  const root = resolve(spec.dir, String(cfg.root ?? '.'));
  const prefix = `/${String(cfg.prefix ?? '/').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const spaFallback = cfg.spaFallback !== false;
  const maxAge = typeof cfg.cacheMaxAge === 'number' ? cfg.cacheMaxAge : 3600;

  async function file(path: string, isFallback: boolean): Promise<HttpAnswer | null> {
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) return null;
    return {
      status: 200,
      headers: {
        'content-type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': isFallback || path.endsWith('.html') ? 'no-cache' : `public, max-age=${maxAge}`,
      },
      stream: createReadStream(path),
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
        const target = normalize(join(root, decoded));
        if (target !== root && !target.startsWith(root + sep)) return { status: 403, body: { error: 'forbidden' } };
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
