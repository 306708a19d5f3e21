/**
 * `wharf rollback ENV VERSION`: roll an environment back to an earlier version through Git. A local repository gets a
 * commit that restores that version's tree on the environment's branch (the watcher then deploys it, recorded as a
 * rollback); a GitHub repository gets a revert pull request to merge. Written to the audit log.
 */
import { parseArgs } from 'node:util';
import { CommandError } from '../backend/backend.js';
import { backendOf, type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const rollbackSummary = 'roll an environment back to an earlier version, through Git';
export const rollbackHelp = `Usage: wharf rollback ENV|APP/ENV VERSION [--app APP] [--reason TEXT]

Rolls ENV back to VERSION (a commit sha of at least 7 characters, from \`wharf history ENV\`), Git staying the
source of truth: on a local repository Wharf commits the tree of VERSION on the environment's branch (refused when
the working copy has uncommitted changes); on GitHub it opens a pull request that does so (merge it to roll back).`;

export async function runRollback(argv: string[], io: EnvironmentCommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, app: { type: 'string' }, reason: { type: 'string' } },
  });
  const [ref, version] = positionals;
  if (!values.help && (!version || positionals.length !== 2)) {
    io.stderr(`${rollbackHelp}\n`);
    return 2;
  }
  const target = await environmentFromArgs(io, rollbackHelp, values, ref ? [ref] : []);
  if ('exit' in target) return target.exit;
  const e = target.env;
  try {
    const r = await backendOf(io).rollback(e, version ?? '', values.reason ?? `wharf rollback ${ref} ${version}`);
    io.stdout(
      r.mode === 'commit'
        ? `${e.app}/${e.name}: committed ${r.commit?.slice(0, 7)} on ${r.branch}, restoring ${r.toSha.slice(0, 7)}; Wharf deploys it as a rollback\n`
        : `${e.app}/${e.name}: a pull request rolling ${r.branch} back to ${r.toSha.slice(0, 7)} is being opened on GitHub; merge it to roll back\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    io.stderr(`${err.message}\n`);
    return 1;
  }
}
