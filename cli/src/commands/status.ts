/**
 * `wharf status`: every environment with its app, the version running, Ready, age and URL; `--json` for scripts.
 * Also home of the environment lookup shared by diff, logs, suspend and resume.
 */
import { parseArgs } from 'node:util';
import { type Condition, type ConditionType, environmentState, findCondition, formatState } from '@wharf/contracts';
import type { DatabasePool, environmentViews } from '@wharf/store';
import { branchSlug } from '@wharf/source';
import type { EnvironmentBackend } from '../backend/backend.js';
import { localBackend } from '../backend/local-backend.js';

export interface EnvironmentCommandIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  /** The local store (tests and `wharf up`'s database); used when there is no `backend`. */
  pool?: DatabasePool;
  /** A remote Wharf (its REST API) or the local store. */
  backend?: EnvironmentBackend;
  /** Ends `wharf logs --follow`. */
  signal?: AbortSignal;
  /** The command's environment (WHARF_DATA_DIR: where the local target's log socket is). */
  env?: Record<string, string | undefined>;
}

export const statusSummary = 'list environments: app, version, state, age, URL';
export const statusHelp = `Usage: wharf status [--app APP] [--json]

Lists every environment: its app, the commit it runs (and the one it is moving to), its state in one word (Ready,
Progressing, Degraded, Stalled, Suspended, Deleting, Pending, with the reason when it is not Ready), how old it is
and its URL.`;

type Summary = environmentViews.EnvironmentSummary;

/** The Wharf the command talks to. */
export function backendOf(io: EnvironmentCommandIO): EnvironmentBackend {
  if (io.backend) return io.backend;
  if (!io.pool) throw new Error('an environment command needs a store or a remote Wharf');
  return localBackend(io.pool, { cwd: io.cwd, env: io.env ?? {} });
}

export const conditionOf = (e: Summary, type: ConditionType): Condition | undefined => findCondition(e.conditions, type);

/** `ENV`, `APP/ENV`, `ENV--APP` or a router label (the host of its URL) or a branch name, plus `--app`. */
export async function resolveEnvironment(
  backend: EnvironmentBackend,
  ref: string,
  app: string | undefined,
): Promise<{ env: Summary } | { error: string }> {
  const candidates: { name: string; app?: string }[] = [{ name: ref, app }];
  const slash = ref.indexOf('/');
  if (slash > 0) candidates.unshift({ app: ref.slice(0, slash), name: ref.slice(slash + 1) });
  const dashes = ref.lastIndexOf('--');
  if (dashes > 0) candidates.push({ name: ref.slice(0, dashes), app: ref.slice(dashes + 2) });
  // A branch name (`feature/x`): its environment is named by the branch's slug.
  candidates.push({ name: branchSlug(ref), app }, ...(slash > 0 ? [{ app: ref.slice(0, slash), name: branchSlug(ref.slice(slash + 1)) }] : []));
  for (const c of candidates) {
    const found = await backend.find(c.name, c.app);
    if (found.length === 1 && found[0]) return { env: found[0] };
    if (found.length > 1) {
      return { error: `${ref} is ambiguous: it exists in apps ${found.map((f) => f.app).join(', ')}; add --app APP or write APP/${c.name}` };
    }
  }
  // The router label of an environment of any tenant (`production--hello-api-1f2e…`), as its URL shows it.
  const byLabel = (await backend.list()).filter((e) => e.url && new URL(e.url).hostname === `${ref}.localhost`);
  if (byLabel.length === 1 && byLabel[0]) return { env: byLabel[0] };
  return { error: `no environment named ${ref}` };
}

/**
 * The ENV argument of `diff`, `logs`, `suspend`, `resume` and `history`: prints help or usage, or the reason ENV
 * names no single environment, and then says with which exit code to stop.
 */
export async function environmentFromArgs(
  io: EnvironmentCommandIO,
  help: string,
  values: { help?: boolean; app?: string },
  positionals: readonly string[],
): Promise<{ env: Summary; ref: string } | { exit: number }> {
  if (values.help) {
    io.stdout(`${help}\n`);
    return { exit: 0 };
  }
  const [ref] = positionals;
  if (!ref || positionals.length > 1) {
    io.stderr(`${help}\n`);
    return { exit: 2 };
  }
  const found = await resolveEnvironment(backendOf(io), ref, values.app);
  if ('error' in found) {
    io.stderr(`${found.error}\n`);
    return { exit: 1 };
  }
  return { env: found.env, ref };
}

const short = (sha: string | null) => (sha ? sha.slice(0, 7) : '-');

export function age(fromIso: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - new Date(fromIso).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7_200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3_600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** The one-word state, as `wharf up` prints it too: `Ready`, `Stalled (InvalidVersion)`. */
export const stateText = (e: Summary): string =>
  formatState(environmentState({ conditions: e.conditions, suspended: e.suspended, deletionRequested: e.deletion_requested }));

export function versionText(e: Summary): string {
  const running = short(e.observed_sha ?? (e.observed_digest ? e.observed_digest.replace(/^sha256:/, '') : null));
  const desired = short(e.desired_sha);
  if (e.observed_digest === e.desired_digest || !e.desired_digest) return running;
  return `${running} → ${desired}`;
}

export async function runStatus(argv: string[], io: EnvironmentCommandIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, app: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (values.help) {
    io.stdout(`${statusHelp}\n`);
    return 0;
  }
  const all = await backendOf(io).list();
  const rows = values.app ? all.filter((e) => e.app === values.app) : all;
  if (values.json) {
    io.stdout(
      `${JSON.stringify(
        rows.map((e) => ({
          app: e.app,
          environment: e.name,
          kind: e.kind,
          target: e.target,
          state: stateText(e),
          ready: conditionOf(e, 'Ready')?.status ?? 'Unknown',
          version: { running: e.observed_sha, runningDigest: e.observed_digest, desired: e.desired_sha, desiredDigest: e.desired_digest },
          generation: e.generation,
          observedGeneration: e.observed_generation,
          url: e.url,
          suspended: e.suspended,
          driftMode: e.drift_mode,
          conditions: e.conditions,
          createdAt: e.created_at,
          lastReconciledAt: e.last_reconciled_at,
        })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  if (rows.length === 0) {
    io.stdout('no environments yet\n');
    return 0;
  }
  const now = new Date();
  const table = [
    ['APP', 'ENV', 'VERSION', 'STATE', 'AGE', 'URL'],
    ...rows.map((e) => [e.app, e.name, versionText(e), stateText(e), age(e.created_at, now), e.url ?? '-']),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of table) io.stdout(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`);
  // Why an environment is not serving its desired version: an invalid version (Stalled, with file:line:col) or a
  // failing rollout (Degraded, with the runtime's last lines).
  for (const e of rows) {
    for (const type of ['Stalled', 'Degraded'] as const) {
      const c = conditionOf(e, type);
      if (c?.status === 'True') io.stdout(`\n${e.app}/${e.name} ${type} (${c.reason}): ${c.message ?? ''}\n`);
    }
  }
  return 0;
}
