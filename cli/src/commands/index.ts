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

/** Commands that read a running Wharf's store get a pool on it, closed when they finish. */
const withStore =
  <M>(load: () => Promise<M>, pick: (m: M) => (argv: string[], io: EnvironmentCommandIO) => Promise<number>): Run =>
  async (argv, io) => {
    const run = pick(await load());
    if (argv.includes('--help') || argv.includes('-h')) return run(argv, { ...io, pool: undefined as never });
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
  validate: { summary: 'check workflow configs and wharf.yaml, with errors at file:line:column', run: lazy(() => import('./validate.js'), (m) => m.runValidate) },
  operator: { summary: 'run the in-cluster Kubernetes operator (WorkflowApp resources → Deployments, Services, routes)', run: lazy(() => import('./operator.js'), (m) => m.runOperator) },
  github: { summary: 'connect Wharf to GitHub: `wharf github setup` creates the GitHub App', run: lazy(() => import('./github.js'), (m) => m.runGithub) },
};
