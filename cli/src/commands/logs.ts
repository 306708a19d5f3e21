/**
 * `wharf logs ENV [--follow]`: the recent output of an environment's runtime (local target), from the bounded log
 * the process running the local target keeps per environment. On this machine it is read over that process's log
 * socket, a Unix socket only Wharf's own user can open (runtimes and the network cannot read logs: the router serves
 * none); against a remote Wharf, through its REST API with the context's credentials.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { LogSource } from '../backend/backend.js';
import { backendOf, type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const logsSummary = "print an environment's runtime output";
export const logsHelp = `Usage: wharf logs ENV [--app APP] [--follow] [--lines N]

Prints the latest output of ENV's runtime (stdout, stderr, and Wharf's own lines about starts, crashes and swaps),
from the log \`wharf up\` keeps for each environment (the last 1000 lines). --follow keeps printing new lines.
On this machine, run it as the user Wharf runs as, where \`wharf up\` runs (it reads WHARF_DATA_DIR/local/logs.sock).`;

interface Line {
  at: string;
  stream: string;
  line: string;
}

const format = (l: Line) => `${l.at.slice(11, 23)} ${l.stream === 'system' ? 'wharf ' : l.stream === 'stderr' ? 'stderr' : 'stdout'} ${l.line}\n`;

type Opened = { body: AsyncIterable<Uint8Array | string> } | { error: string };

/** A remote Wharf's API. */
async function openUrl(source: { url: string; headers: Record<string, string> }, what: string, signal?: AbortSignal): Promise<Opened | 'aborted'> {
  const url = new URL(source.url);
  let res: Response;
  try {
    res = await fetch(url, { headers: source.headers, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) return 'aborted';
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    return { error: `cannot reach ${url.origin}: ${cause}` };
  }
  if (res.status !== 200 || !res.body) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string; title?: string };
    return { error: `no logs for ${what}: ${problem.detail ?? problem.title ?? `HTTP ${res.status}`}` };
  }
  return { body: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) };
}

/** The local target's log socket on this machine. */
function openSocket(source: { socketPath: string; path: string }, what: string, signal?: AbortSignal): Promise<Opened | 'aborted'> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: source.socketPath, path: source.path, agent: false, ...(signal ? { signal } : {}) }, (res) => {
      if (res.statusCode === 200) return resolve({ body: res });
      res.resume();
      resolve({ error: `no logs for ${what}: it is not running under this \`wharf up\`` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal?.aborted) return resolve('aborted');
      const why = err.code === 'EACCES' ? 'permission denied: run wharf logs as the user Wharf runs as' : err.message;
      resolve({ error: `cannot read the local target's log socket ${source.socketPath}: ${why}` });
    });
  });
}

const open = (source: LogSource, what: string, signal?: AbortSignal) => ('socketPath' in source ? openSocket(source, what, signal) : openUrl(source, what, signal));

export async function runLogs(argv: string[], io: EnvironmentCommandIO): Promise<number> {
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
  const limit = values.lines ? Number(values.lines) : undefined;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit <= 0)) {
    io.stderr(`--lines must be a positive whole number (got ${JSON.stringify(values.lines)})\n`);
    return 2;
  }
  const source = await backendOf(io).logs(e, { follow: Boolean(values.follow), ...(limit !== undefined ? { lines: limit } : {}) });
  if ('error' in source) {
    io.stderr(`${source.error}\n`);
    return 1;
  }
  const opened = await open(source, `${e.app}/${e.name}`, io.signal);
  if (opened === 'aborted') return 0;
  if ('error' in opened) {
    io.stderr(`${opened.error}\n`);
    return 1;
  }
  let buffered = '';
  const backlog: Line[] = [];
  let live = false;
  const emit = (l: Line) => {
    if (live || limit === undefined) io.stdout(format(l));
    else backlog.push(l);
  };
  // The first chunk(s) are the kept lines; with --lines only the last N of them are printed.
  const flushBacklog = () => {
    if (live) return;
    live = true;
    for (const l of limit === undefined ? backlog : backlog.slice(-limit)) io.stdout(format(l));
  };
  const decoder = new TextDecoder();
  try {
    for await (const chunk of opened.body) {
      buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p) emit(JSON.parse(p) as Line);
      if (values.follow) setImmediate(flushBacklog);
    }
  } catch (err) {
    if (!io.signal?.aborted) {
      io.stderr(`the log stream broke: ${(err as Error).message}\n`);
      return 1;
    }
  }
  flushBacklog();
  return 0;
}
