import { openStore } from '../connect.js';
import { diffHelp, diffSummary, runDiff } from './diff.js';
import { githubHelp, runGithub } from './github.js';
import { historyHelp, historySummary, runHistory } from './history.js';
import type { CommandIO } from './io.js';
import { logsHelp, logsSummary, runLogs } from './logs.js';
import { type EnvironmentCommandIO, runStatus, statusHelp, statusSummary } from './status.js';
import { resumeSummary, runResume, runSuspend, suspendHelp, suspendSummary } from './suspend.js';
import { runUp, upHelp } from './up.js';
import { runValidate, validateHelp, validateSummary } from './validate.js';

export interface Command {
  summary: string;
  help: string;
  run: (argv: string[], io: CommandIO) => Promise<number>;
}

/** Commands that read a running Wharf's store get a pool on it, closed when they finish. */
const withStore =
  (run: (argv: string[], io: EnvironmentCommandIO) => Promise<number>) =>
  async (argv: string[], io: CommandIO): Promise<number> => {
    if (argv.includes('--help') || argv.includes('-h')) return run(argv, { ...io, pool: undefined as never });
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
  up: { summary: 'run the whole GitOps loop in one process (store, server, source, reconciler, local target)', help: upHelp, run: runUp },
  status: { summary: statusSummary, help: statusHelp, run: withStore(runStatus) },
  history: { summary: historySummary, help: historyHelp, run: withStore(runHistory) },
  diff: { summary: diffSummary, help: diffHelp, run: withStore(runDiff) },
  logs: { summary: logsSummary, help: logsHelp, run: withStore(runLogs) },
  suspend: { summary: suspendSummary, help: suspendHelp, run: withStore(runSuspend) },
  resume: { summary: resumeSummary, help: suspendHelp, run: withStore(runResume) },
  validate: { summary: validateSummary, help: validateHelp, run: runValidate },
  github: { summary: 'connect Wharf to GitHub: `wharf github setup` creates the GitHub App', help: githubHelp, run: runGithub },
};
