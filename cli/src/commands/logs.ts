/**
 * `wharf logs ENV [--follow]`: the recent output of an environment's runtime (local target), from the bounded log
 * the process running the local target keeps per environment. It is read over that process's log socket, a Unix
 * socket only Wharf's own user can open: runtimes and the network cannot read logs (the router serves none).
 */
import { lstat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { commonSettings, loadSettings } from '@wharf/contracts';
import { logSocketPath } from '@wharf/reconciler';
import { type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const logsSummary = "print an environment's runtime output";
export const logsHelp = `Usage: wharf logs ENV [--app APP] [--follow] [--lines N]

Prints the latest output of ENV's runtime (stdout, stderr, and Wharf's own lines about starts, crashes and swaps),
from the log \`wharf up\` keeps for each environment (the last 1000 lines). --follow keeps printing new lines.
Run it as the user Wharf runs as, where \`wharf up\` runs (it reads WHARF_DATA_DIR/local/logs.sock).`;

export interface LogsIO extends EnvironmentCommandIO {
  env?: Record<string, string | undefined>;
}

interface Line {
  at: string;
  stream: string;
  line: string;
}

const format = (l: Line) => `${l.at.slice(11, 23)} ${l.stream === 'system' ? 'wharf ' : l.stream === 'stderr' ? 'stderr' : 'stdout'} ${l.line}\n`;

/**
 * The log socket of the local target under WHARF_DATA_DIR/local, looked for in `cwd` and each parent (as the
 * embedded database is), so the command works from inside the example repository too.
 */
export async function findLogSocket(env: Record<string, string | undefined>, cwd: string): Promise<string | undefined> {
  const { WHARF_DATA_DIR: dataDir } = loadSettings({ WHARF_DATA_DIR: commonSettings.WHARF_DATA_DIR }, env);
  const candidates: string[] = [];
  if (path.isAbsolute(dataDir)) candidates.push(dataDir);
  else {
    for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
      candidates.push(path.join(dir, dataDir));
      if (path.dirname(dir) === dir) break;
    }
  }
  for (const d of candidates) {
    const socket = logSocketPath(path.join(d, 'local'));
    if ((await lstat(socket).catch(() => undefined))?.isSocket()) return socket;
  }
  return undefined;
}

export async function runLogs(argv: string[], io: LogsIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      app: { type: 'string' },
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
    },
  });
  const target = await environmentFromArgs(io, logsHelp, values, positionals);
  if ('exit' in target) return target.exit;
  const e = target.env;
  if (e.target !== 'local') {
    io.stderr(`${e.app}/${e.name} runs on the ${e.target} target; wharf logs reads the local target's logs\n`);
    return 1;
  }
  const limit = values.lines ? Number(values.lines) : undefined;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit <= 0)) {
    io.stderr(`--lines must be a positive whole number (got ${JSON.stringify(values.lines)})\n`);
    return 2;
  }
  const socketPath = await findLogSocket(io.env ?? {}, io.cwd);
  if (!socketPath) {
    io.stderr(`no local target is running here: start \`wharf up\` in this directory (or set WHARF_DATA_DIR), and run wharf logs as its user\n`);
    return 1;
  }
  const query = new URLSearchParams({ ...(values.follow ? { follow: '1' } : {}), ...(limit !== undefined ? { tail: String(limit) } : {}) }).toString();
  return new Promise<number>((resolve) => {
    const req = http.get({ socketPath, path: `/logs/${e.id}${query ? `?${query}` : ''}`, agent: false, signal: io.signal }, (res) => {
      if (res.statusCode !== 200) {
        io.stderr(`no logs for ${e.app}/${e.name}: it is not running under this \`wharf up\`\n`);
        res.resume();
        resolve(1);
        return;
      }
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const p of parts) if (p) io.stdout(format(JSON.parse(p) as Line));
      });
      res.on('end', () => resolve(0));
      res.on('error', () => resolve(io.signal?.aborted ? 0 : 1));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (io.signal?.aborted) return resolve(0);
      const why = err.code === 'EACCES' ? 'permission denied: run wharf logs as the user Wharf runs as' : err.message;
      io.stderr(`cannot read the local target's log socket ${socketPath}: ${why}\n`);
      resolve(1);
    });
  });
}
