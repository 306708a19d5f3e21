import type { CommandIO } from './io.js';
import { runUp, upHelp } from './up.js';
import { runValidate, validateHelp, validateSummary } from './validate.js';

export interface Command {
  summary: string;
  help: string;
  run: (argv: string[], io: CommandIO) => Promise<number>;
}

/** Every `wharf` subcommand, listed here and nowhere else. */
export const commands: Record<string, Command> = {
  validate: { summary: validateSummary, help: validateHelp, run: runValidate },
  up: { summary: 'run the control plane (store, server, source, reconciler) in one process', help: upHelp, run: runUp },
};
