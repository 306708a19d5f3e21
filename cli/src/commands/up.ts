import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSettings } from '@wharf/contracts';
import { createLogger } from '../logger.js';
import { startControlPlane } from '../control-plane.js';
import { upSettings } from '../settings.js';
import type { CommandIO } from './io.js';

export const upHelp = `wharf up [--repo PATH]

Runs the whole control plane in one process: the store (embedded PostgreSQL unless DATABASE_URL is set),
the API and webhook server, and prints its URL. Ctrl-C stops everything cleanly.`;

export async function runUp(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, repo: { type: 'string' } }, strict: true });
  if (values.help) {
    io.stdout(`${upHelp}\n`);
    return 0;
  }
  const settings = loadSettings(upSettings, io.env);
  const logFile = settings.WHARF_LOG_FILE ?? path.resolve(io.cwd, settings.WHARF_DATA_DIR, 'wharf.log');
  const log = createLogger({ level: settings.WHARF_LOG_LEVEL, file: logFile });
  const started = Date.now();
  const cp = await startControlPlane({ settings, log, cwd: io.cwd, progress: (m) => io.stdout(`… ${m}\n`) });
  io.stdout(`Wharf is up at ${cp.url} (ready in ${Date.now() - started} ms)\n`);
  io.stdout(`  health   ${cp.url}/healthz\n  ready    ${cp.url}/readyz\n  metrics  ${cp.url}/metrics\n`);
  io.stdout(`  logs     ${logFile === '-' ? 'standard error' : path.relative(io.cwd, logFile)}\n`);
  io.stdout('Press Ctrl-C to stop.\n');
  const signal = await io.waitForStop();
  io.stdout(`\n${signal}: stopping…\n`);
  await cp.stop();
  log.flush();
  io.stdout('Wharf stopped.\n');
  return 0;
}
