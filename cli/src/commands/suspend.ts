/** `wharf suspend ENV` and `wharf resume ENV`: stop and restart reconciling one environment, written to the audit log. */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AUDIT_ACTIONS } from '@wharf/contracts';
import { audit, desiredState } from '@wharf/store';
import { type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const suspendSummary = 'stop reconciling an environment (it keeps running as it is)';
export const resumeSummary = 'reconcile a suspended environment again, at once';
export const suspendHelp = `Usage: wharf suspend ENV [--app APP] [--reason TEXT]
       wharf resume ENV [--app APP] [--reason TEXT]

suspend: Wharf stops reconciling ENV: new commits, drift and retries wait. What runs keeps running.
resume: reconciles ENV again, right away.
Both are written to the audit log with who ran them and --reason.`;

/** Who runs the CLI, as the audit log names them. */
const cliActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
};

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
  const scope = { tenantId: e.tenant_id };
  await io.pool.transaction(async (tx) => {
    await desiredState.setSuspended(tx, scope, e.id, suspended);
    await audit.recordAudit(tx, [
      {
        tenantId: e.tenant_id,
        actor: cliActor(),
        action: suspended ? AUDIT_ACTIONS.suspend : AUDIT_ACTIONS.resume,
        subject: `environment:${e.id}`,
        reason: values.reason ?? `wharf ${suspended ? 'suspend' : 'resume'} ${ref}`,
        details: { app: e.app, environment: e.name },
      },
    ]);
  });
  io.stdout(suspended ? `${e.app}/${e.name} suspended: Wharf leaves it as it is until \`wharf resume ${ref}\`\n` : `${e.app}/${e.name} resumed\n`);
  return 0;
}

export const runSuspend = (argv: string[], io: EnvironmentCommandIO): Promise<number> => setSuspended(argv, io, true);
export const runResume = (argv: string[], io: EnvironmentCommandIO): Promise<number> => setSuspended(argv, io, false);
