import type { CommandIO } from './io.js';
import type { EnvironmentCommandIO } from './status.js';

type Run = (argv: string[], io: CommandIO) => Promise<number>;

export interface Command {
  summary: string;
  run: Run;
}

/** Loads a command's module only when it runs, so `wharf --help` and `wharf validate` stay quick. */
const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Run): Run =>
  async (argv, io) =>
    pick(await load())(argv, io);

/** `--context NAME` (any environment command): taken out of the arguments. */
function takeContext(argv: string[]): { argv: string[]; context?: string } {
  const at = argv.findIndex((a) => a === '--context' || a.startsWith('--context='));
  if (at < 0) return { argv };
  const arg = argv[at] ?? '';
  const context = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[at + 1];
  return { argv: argv.filter((_, i) => i !== at && (arg.includes('=') || i !== at + 1)), ...(context ? { context } : {}) };
}

/**
 * Environment commands talk to a remote Wharf's API (WHARF_URL/WHARF_TOKEN, `--context`, or the current context of
 * `wharf login`), or else to a running Wharf's store here, through a pool closed when they finish.
 */
const withStore =
  <M>(load: () => Promise<M>, pick: (m: M) => (argv: string[], io: EnvironmentCommandIO) => Promise<number>): Run =>
  async (rawArgv, io) => {
    const run = pick(await load());
    const { argv, context } = takeContext(rawArgv);
    if (argv.includes('--help') || argv.includes('-h')) return run(argv, io);
    const { findRemote } = await import('../backend/remote-config.js');
    const remote = await findRemote(io.env, context).catch((err: Error) => {
      throw Object.assign(new Error(err.message), { name: 'StartupError' });
    });
    if (remote) {
      const { remoteBackend } = await import('../backend/remote-backend.js');
      const abort = new AbortController();
      void io.waitForStop().then(() => abort.abort());
      return run(argv, { ...io, backend: remoteBackend(remote), signal: abort.signal });
    }
    const { openStore } = await import('../connect.js');
    const pool = await openStore(io.env, io.cwd);
    const abort = new AbortController();
    void io.waitForStop().then(() => abort.abort());
    try {
      return await run(argv, { ...io, pool, signal: abort.signal });
    } finally {
      await pool.end();
    }
  };

/** Every `wharf` subcommand, listed here and nowhere else. */
export const commands: Record<string, Command> = {
  up: {
    summary: 'run the whole GitOps loop in one process (store, server, source, reconciler, local target)',
    run: lazy(() => import('./up.js'), (m) => m.runUp),
  },
  status: { summary: 'list environments: app, version, Ready, age, URL', run: withStore(() => import('./status.js'), (m) => m.runStatus) },
  history: { summary: 'list the rollouts of an environment, rollbacks named as such', run: withStore(() => import('./history.js'), (m) => m.runHistory) },
  diff: { summary: 'show what the next rollout of an environment would change', run: withStore(() => import('./diff.js'), (m) => m.runDiff) },
  logs: { summary: "print an environment's runtime output", run: withStore(() => import('./logs.js'), (m) => m.runLogs) },
  suspend: { summary: 'stop reconciling an environment (it keeps running as it is)', run: withStore(() => import('./suspend.js'), (m) => m.runSuspend) },
  resume: { summary: 'reconcile a suspended environment again, at once', run: withStore(() => import('./suspend.js'), (m) => m.runResume) },
  rollback: { summary: 'roll an environment back to an earlier version, through Git', run: withStore(() => import('./rollback.js'), (m) => m.runRollback) },
  login: { summary: 'log in to a remote Wharf (GitHub device flow, or an API key): a context like kubectl’s', run: lazy(() => import('./login.js'), (m) => m.runLogin) },
  logout: { summary: 'forget the credentials of a context', run: lazy(() => import('./login.js'), (m) => m.runLogout) },
  context: { summary: 'list contexts, or switch: `wharf context NAME` (`local`: this machine)', run: lazy(() => import('./login.js'), (m) => m.runContext) },
  validate: { summary: 'check workflow configs and wharf.yaml, with errors at file:line:column', run: lazy(() => import('./validate.js'), (m) => m.runValidate) },
  agent: { summary: 'pull agents: tokens and registration, `wharf agent run` on the agent host, status, list, revoke', run: lazy(() => import('./agent.js'), (m) => m.runAgentCommand) },
  billing: { summary: 'plan, usage against its limits and the projected invoice (`wharf billing status`); `sync-catalog` sets up Stripe', run: lazy(() => import('./billing.js'), (m) => m.runBilling) },
  operator: { summary: 'run the in-cluster Kubernetes operator (WorkflowApp resources → Deployments, Services, routes)', run: lazy(() => import('./operator.js'), (m) => m.runOperator) },
  github: { summary: 'connect Wharf to GitHub: `wharf github setup` creates the GitHub App', run: lazy(() => import('./github.js'), (m) => m.runGithub) },
};
