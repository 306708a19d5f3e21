import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { FastifyReply } from 'fastify';
import type { ModuleSpec } from '../config/app-config.js';
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

  async function send(reply: FastifyReply, file: string, isFallback: boolean): Promise<boolean> {
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return false;
    reply.header('content-type', TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
    reply.header('content-length', st.size);
    reply.header('cache-control', isFallback || file.endsWith('.html') ? 'no-cache' : `public, max-age=${maxAge}`);
    await reply.send(createReadStream(file));
    return true;
  }

  return {
    name: spec.name,
    type: spec.type,
    registerRoutes(app) {
      const handler = async (req: { url: string }, reply: FastifyReply) => {
        const urlPath = decodeURIComponent(req.url.split('?')[0]).slice(prefix.length) || '/';
        const target = normalize(join(root, urlPath));
        if (target !== root && !target.startsWith(root + sep)) return reply.code(403).send({ error: 'forbidden' });
        if (await send(reply, target, false)) return reply;
        if (await send(reply, join(target, 'index.html'), false)) return reply;
        if (spaFallback && !extname(urlPath) && (await send(reply, join(root, 'index.html'), true))) return reply;
        return reply.code(404).send({ error: 'not found' });
      };
      app.get(`${prefix}/*`, handler);
      if (prefix) app.get(prefix, handler);
    },
  };
}
