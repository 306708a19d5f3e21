/** What a command may touch of the outside world; tests pass their own. */
export interface CommandIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Resolves with the signal name when the process is asked to stop (SIGINT, SIGTERM). */
  waitForStop: () => Promise<string>;
}
