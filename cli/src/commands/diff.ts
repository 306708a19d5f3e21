/** `wharf diff ENV`: the plan for an environment, desired against what is rolled out, as the PR's plan check shows it. */
import { parseArgs } from 'node:util';
import { renderPlan } from '@wharf/contracts';
import { backendOf, type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const diffSummary = 'show what a rollout of an environment would change';
export const diffHelp = `Usage: wharf diff ENV [--app APP] [--json]

Prints the plan for environment ENV (ENV, APP/ENV or ENV--APP): the action (create, update, restart, delete, noop)
with its reason, and the workflow configuration that changes: files, modules, pipelines, workflows, routes and
triggers added, removed or changed, by name. It compares the desired version with the one last rolled out; it does
not touch the running environment.`;

export async function runDiff(argv: string[], io: EnvironmentCommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, app: { type: 'string' }, json: { type: 'boolean' } },
  });
  const target = await environmentFromArgs(io, diffHelp, values, positionals);
  if ('exit' in target) return target.exit;
  const e = target.env;
  const p = await backendOf(io).diff(e);
  if (values.json) {
    io.stdout(`${JSON.stringify({ app: e.app, environment: e.name, ...p }, null, 2)}\n`);
    return 0;
  }
  io.stdout(`${renderPlan(p, { title: `${e.app}/${e.name}` })}\n`);
  return 0;
}
