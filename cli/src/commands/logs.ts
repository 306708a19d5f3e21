/**
 * `wharf logs ENV [--follow]`: the recent output of an environment's runtime (local target), from the bounded log
 * that `wharf up` keeps per environment, read through the local router.
 */
import { parseArgs } from 'node:util';
import { backendOf, type EnvironmentCommandIO, environmentFromArgs } from './status.js';

export const logsSummary = "print an environment's runtime output";
export const logsHelp = `Usage: wharf logs ENV [--app APP] [--follow] [--lines N]

Prints the latest output of ENV's runtime (stdout, stderr, and Wharf's own lines about starts, crashes and swaps),
from the log \`wharf up\` keeps for each environment (the last 1000 lines). --follow keeps printing new lines.`;

interface Line {
  at: string;
  stream: string;
  line: string;
}

const format = (l: Line) => `${l.at.slice(11, 23)} ${l.stream === 'system' ? 'wharf ' : l.stream === 'stderr' ? 'stderr' : 'stdout'} ${l.line}\n`;

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
  const source = await backendOf(io).logs(e, { follow: Boolean(values.follow), ...(limit !== undefined ? { lines: limit } : {}) });
  if ('error' in source) {
    io.stderr(`${source.error}\n`);
    return 1;
  }
  const url = new URL(source.url);
  let res: Response;
  try {
    res = await fetch(url, { headers: source.headers, ...(io.signal ? { signal: io.signal } : {}) });
  } catch (err) {
    if (io.signal?.aborted) return 0;
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    io.stderr(url.hostname === '127.0.0.1' ? `cannot reach the local router on port ${url.port}: ${cause}\n` : `cannot reach ${url.origin}: ${cause}\n`);
    return 1;
  }
  if (res.status !== 200 || !res.body) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string; title?: string };
    io.stderr(
      url.hostname === '127.0.0.1'
        ? `no logs for ${e.app}/${e.name} (HTTP ${res.status}): is it running under this \`wharf up\`?\n`
        : `no logs for ${e.app}/${e.name}: ${problem.detail ?? problem.title ?? `HTTP ${res.status}`}\n`,
    );
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
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
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
