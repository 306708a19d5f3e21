/** `wharf suspend ENV` and `wharf resume ENV`: stop and restart reconciling one environment, written to the audit log. */
import { parseArgs } from 'node:util';
import { backendOf, type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const suspendSummary = 'stop reconciling an environment (it keeps running as it is)';
export const resumeSummary = 'reconcile a suspended environment again, at once';
export const suspendHelp = `Usage: wharf suspend ENV [--app APP] [--reason TEXT]
       wharf resume ENV [--app APP] [--reason TEXT]

suspend: Wharf stops reconciling ENV: new commits, drift and retries wait. What runs keeps running.
resume: reconciles ENV again, right away.
Both are written to the audit log with who ran them and --reason.`;

async function setSuspended(argv: string[], io: EnvironmentCommandIO, suspended: boolean): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, app: { type: 'string' }, reason: { type: 'string' } },
  });
  const target = await environmentFromArgs(io, suspendHelp, values, positionals);
  if ('exit' in target) return target.exit;
  const { env: e, ref } = target;
  if (e.suspended === suspended) {
    io.stdout(`${e.app}/${e.name} is already ${suspended ? 'suspended' : 'reconciled'}\n`);
    return 0;
  }
  await backendOf(io).setSuspended(e, suspended, values.reason ?? `wharf ${suspended ? 'suspend' : 'resume'} ${ref}`);
  io.stdout(suspended ? `${e.app}/${e.name} suspended: Wharf leaves it as it is until \`wharf resume ${ref}\`\n` : `${e.app}/${e.name} resumed\n`);
  return 0;
}

export const runSuspend = (argv: string[], io: EnvironmentCommandIO): Promise<number> => setSuspended(argv, io, true);
export const runResume = (argv: string[], io: EnvironmentCommandIO): Promise<number> => setSuspended(argv, io, false);
