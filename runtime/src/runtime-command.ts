import { fileURLToPath } from 'node:url';

/** Absolute path of the `wharf-runtime` entry script; run it with `node --import tsx RUNTIME_BIN --config …`. */
export const RUNTIME_BIN: string = fileURLToPath(new URL('./bin/wharf-runtime.ts', import.meta.url));

export type RuntimeCommandOptions = {
  readonly configFiles: readonly string[];
  /** 0 (default) lets the runtime pick a free port; read the URL from its "listening URL" stdout line. */
  readonly port?: number;
  readonly dataDir?: string;
  readonly digest?: string;
  /** Node binary; defaults to the current one. */
  readonly node?: string;
};

/** The command line a target spawns to run the reference runtime (`spawn(command, args)`). */
export function runtimeCommand(opts: RuntimeCommandOptions): { command: string; args: string[] } {
  const args = ['--import', 'tsx', RUNTIME_BIN];
  for (const f of opts.configFiles) args.push('--config', f);
  args.push('--port', String(opts.port ?? 0));
  if (opts.dataDir) args.push('--data-dir', opts.dataDir);
  if (opts.digest) args.push('--digest', opts.digest);
  return { command: opts.node ?? process.execPath, args };
}
