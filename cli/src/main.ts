import { commands } from './commands/index.js';
import type { CommandIO } from './commands/io.js';

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `wharf: the GitOps control plane for Workflow apps\n\nUsage: wharf <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'wharf <command> --help' for a command's options.\n`;
}

/** Runs one `wharf` invocation and returns its exit code: 0 ok, 1 failure, 2 usage. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`wharf: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    // By name: the classes live in modules that are loaded only by the commands that need them.
    const errName = (err as Error).name;
    if (errName === 'SettingsError' || errName === 'StartupError' || errName === 'CommandError') {
      io.stderr(`wharf ${name}: ${(err as Error).message}\n`);
      return 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`wharf ${name}: ${(err as Error).message}\nRun 'wharf ${name} --help' for its options.\n`);
      return 2;
    }
    throw err;
  }
}
