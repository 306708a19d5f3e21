import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSettings, StartupError } from '@wharf/contracts';
import type { EnvironmentLogs } from '@wharf/webhook-app';
import { startControlPlane } from '../control-plane.js';
import { createLogger } from '../logger.js';
import { upSettings } from '../settings.js';
import { hardenDataDir } from '../up/harden-data-dir.js';
import { startLiveSummary } from '../up/live-summary.js';
import { startLocalStack } from '../up/local-stack.js';
import { prepareRepository } from '../up/prepare-repository.js';
import type { CommandIO } from './io.js';

export const upHelp = `Usage: wharf up [--repo PATH] [--example NAME]

Runs the whole GitOps loop in one process: the store (embedded PostgreSQL unless DATABASE_URL is set), the
API and webhook server, the local source watching a Git working copy, the reconciler and the local target,
which serves every environment through one router. Keeps printing each environment's version, state and URL.

  --repo PATH       watch this Git working copy (default: a copy of an example under .wharf/repos/)
  --example NAME    which example to start from when there is no repository (default: hello-api)

Ctrl-C stops everything cleanly: runtimes, server, database.`;

export async function runUp(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, repo: { type: 'string' }, example: { type: 'string' } },
    strict: true,
  });
  if (values.help) {
    io.stdout(`${upHelp}\n`);
    return 0;
  }
  const settings = loadSettings(upSettings, io.env);
  const dataDir = path.resolve(io.cwd, settings.WHARF_DATA_DIR);
  const logFile = settings.WHARF_LOG_FILE ?? path.join(dataDir, 'wharf.log');
  const log = createLogger({ level: settings.WHARF_LOG_LEVEL, file: logFile });
  const progress = (m: string) => io.stdout(`… ${m}\n`);
  const started = Date.now();

  const repo = await prepareRepository({
    repo: values.repo ?? settings.WHARF_REPO,
    example: values.example ?? settings.WHARF_EXAMPLE,
    dataDir,
    cwd: io.cwd,
    progress,
  }).catch((err: Error) => {
    throw new StartupError(err.message);
  });
  // The API reads runtime logs from the local target, which starts after the server: bound once it exists.
  let logsTarget: Awaited<ReturnType<typeof startLocalStack>>['target'] | undefined;
  const environmentLogs: EnvironmentLogs = (env, options) =>
    env.target === 'local' && logsTarget?.logs
      ? logsTarget.logs({ id: env.id, tenantId: env.tenant_id, repositoryId: env.repository_id, app: env.app, name: env.name, qualifier: null }, options)
      : null;
  const cp = await startControlPlane({ settings, log, cwd: io.cwd, progress, services: { environmentLogs } });
  // The private key, the database and the logs are Wharf's alone, before any runtime (what strangers commit) starts.
  await hardenDataDir(dataDir, { log, logFile }).catch(async (err: unknown) => {
    await cp.stop();
    throw err;
  });
  let stack: Awaited<ReturnType<typeof startLocalStack>>;
  try {
    stack = await startLocalStack({
      pool: cp.pool,
      databaseUrl: cp.databaseUrl,
      log,
      registry: cp.registry,
      repoPath: repo.path,
      dataDir,
      settings,
    });
  } catch (err) {
    await cp.stop();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartupError(
        `port ${settings.WHARF_ROUTER_PORT} is already in use: stop the other process or set WHARF_ROUTER_PORT to a free port`,
      );
    }
    throw err;
  }
  logsTarget = stack.target;
  const routerUrl = stack.target.router.url.replace(/\/$/, '');
  io.stdout(`Wharf is up at ${cp.url} (ready in ${Date.now() - started} ms)\n`);
  io.stdout(`  dashboard ${cp.url}/  (open it in a browser: no sign-in from this machine)\n`);
  io.stdout(`  router   ${routerUrl}  (your environments: ${routerUrl}/<app>/<env>/)\n`);
  io.stdout(`  watching ${path.relative(io.cwd, repo.path) || '.'}\n`);
  io.stdout(`  api      ${cp.url}/api/v1  (reference ${cp.url}/api/v1/docs; no login needed from this machine)\n`);
  io.stdout(`  health   ${cp.url}/healthz   ready ${cp.url}/readyz   metrics ${cp.url}/metrics\n`);
  if (settings.GITHUB_APP_ID !== undefined) {
    io.stdout(`  github   App ${settings.GITHUB_APP_ID}: webhooks at ${settings.WHARF_PUBLIC_URL ?? cp.url}${settings.GITHUB_WEBHOOK_PATH}\n`);
  }
  io.stdout(`  logs     ${logFile === '-' ? 'standard error' : path.relative(io.cwd, logFile)}\n`);
  io.stdout('Press Ctrl-C to stop.\n');
  const summary = startLiveSummary({
    pool: cp.pool,
    tenantId: stack.tenantId,
    repoPath: repo.path,
    cwd: io.cwd,
    routerUrl,
    print: io.stdout,
  });
  const signal = await io.waitForStop();
  io.stdout(`\n${signal}: stopping…\n`);
  summary.close();
  await stack.stop();
  await cp.stop();
  log.flush();
  io.stdout('Wharf stopped.\n');
  return 0;
}
