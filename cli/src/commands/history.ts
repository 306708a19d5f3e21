import { parseArgs } from 'node:util';
import { describeRollout } from '@wharf/contracts';
import type { history } from '@wharf/store';
import { backendOf, type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const historySummary = 'list the rollouts of an environment, rollbacks named as such';
export const historyHelp = `Usage: wharf history ENV|APP/ENV|BRANCH [--app APP] [--limit N] [--json]

Lists the latest rollouts of environment ENV (e.g. production), newest first: the commit deployed, and for a
rollback the commit it returned to ("rollback to 4eb6b0e (First version)").`;

const describe = (r: history.RolloutView) =>
  describeRollout({ action: r.action, sha: r.sha, subject: r.subject, rollbackSha: r.rollback_sha, rollbackSubject: r.rollback_subject });

export async function runHistory(argv: string[], io: EnvironmentCommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, app: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  });
  const target = await environmentFromArgs(io, historyHelp, values, positionals);
  if ('exit' in target) return target.exit;
  const { env } = target;
  const rows = await backendOf(io).rollouts(env, Number(values.limit ?? 20));
  if (values.json) {
    io.stdout(`${JSON.stringify(rows.map((r) => ({ ...r, description: describe(r) })), null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.stdout(`no rollouts of ${env.app}/${env.name} yet\n`);
    return 0;
  }
  io.stdout(`${'APP'.padEnd(12)} ${'ENV'.padEnd(14)} ${'GEN'.padEnd(4)} ${'RESULT'.padEnd(11)} ${'STARTED'.padEnd(20)} WHAT\n`);
  for (const r of rows) {
    io.stdout(
      `${r.app.padEnd(12)} ${r.environment.padEnd(14)} ${String(r.generation).padEnd(4)} ${r.result.padEnd(11)} ${r.started_at.slice(0, 19).replace('T', ' ').padEnd(20)} ${describe(r)}${r.result === 'failed' && r.message ? `: ${r.message.split('\n')[0]}` : ''}\n`,
    );
  }
  return 0;
}
