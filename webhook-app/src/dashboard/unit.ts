/**
 * The dashboard as a control-plane unit, served at `/`: the page shell on every page's path (deep links), the
 * bundle built on first start (build-dashboard.ts), and the few read models the REST API lacks yet
 * (`/dashboard/api/…`). The page itself talks to `/api/v1` and its event stream.
 */
import fastifyCookie from '@fastify/cookie';
import type { SettingsOf } from '@wharf/contracts';
import { organizations } from '@wharf/store';
import type { FastifyPluginAsync } from 'fastify';
import { loadPepper } from '../api/auth/secrets.js';
import type { apiSettings } from '../api/settings.js';
import type { UnitFactory } from '../units.js';
import { type Asset, loadAssets, pickEncoding } from './assets.js';
import { ensureDashboardBuild } from './build-dashboard.js';
import { createMetricsSampler } from './metrics/metrics-sampler.js';
import { scrapeRuntime } from './metrics/scrape-runtime.js';
import { PAGE_PATHS } from './page-paths.js';
import { registerDashboardApi } from './routes/dashboard-api.js';
import { renderShell, SHELL_HEADERS } from './shell.js';

export const dashboardUnit: UnitFactory = async ({ pool, log, settings, dataDir }) => {
  const s = settings as typeof settings & SettingsOf<typeof apiSettings>;
  const started = Date.now();
  const { dir, manifest, built } = await ensureDashboardBuild();
  const assets = await loadAssets(dir, manifest);
  log.info({ built, ms: Date.now() - started, js: manifest.js }, built ? 'dashboard built' : 'dashboard build is fresh');
  const shell = Buffer.from(renderShell(manifest));
  const pepper = await loadPepper(s.WHARF_API_PEPPER, dataDir);
  const localOwner = s.WHARF_API_LOCAL_OWNER ? await organizations.ensureLocalOwner(pool) : null;
  const metrics = createMetricsSampler({ scrape: (url) => scrapeRuntime(url), log });

  const plugin: FastifyPluginAsync = async (app) => {
    await app.register(fastifyCookie, { hook: 'onRequest' });
    const page = async (_req: unknown, reply: import('fastify').FastifyReply) =>
      reply.headers(SHELL_HEADERS).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(shell);
    for (const path of new Set(Object.values(PAGE_PATHS))) app.get(path, page);
    app.get('/assets/:name', async (req, reply) => {
      const name = (req.params as { name: string }).name;
      const asset: Asset | undefined = assets.get(name);
      if (!asset) return reply.code(404).type('text/plain').send('no such asset (the dashboard was rebuilt: reload the page)\n');
      const encoding = pickEncoding(req.headers['accept-encoding']);
      reply.headers({ 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable', vary: 'accept-encoding', 'x-content-type-options': 'nosniff' });
      if (encoding) reply.header('content-encoding', encoding);
      return reply.send(encoding === 'br' ? asset.br : encoding === 'gzip' ? asset.gzip : asset.raw);
    });
    registerDashboardApi(app, { pool, pepper, localOwner, metrics });
  };

  return {
    name: 'dashboard',
    plugin,
    stop: async () => metrics.close(),
  };
};
