/**
 * `wharf logs ENV [--follow]`: the recent output of an environment's runtime (local target), from the bounded log
 * that `wharf up` keeps per environment, read through the local router.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { type EnvironmentCommandIO, environmentFromArgs } from './status.js';

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
  if (e.target !== 'local') {
    io.stderr(`${e.app}/${e.name} runs on the ${e.target} target; wharf logs reads the local target's logs\n`);
    return 1;
  }
  const port = e.url ? Number(new URL(e.url).port) : 0;
  if (!port) {
    io.stderr(`${e.app}/${e.name} has no URL yet: it has not been deployed, or \`wharf up\` is not running\n`);
    return 1;
  }
  const limit = values.lines ? Number(values.lines) : undefined;
  return new Promise<number>((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: `/.wharf/logs/${e.id}${values.follow ? '?follow=1' : ''}`, agent: false, signal: io.signal },
      (res) => {
        if (res.statusCode !== 200) {
          io.stderr(`no logs for ${e.app}/${e.name} (HTTP ${res.statusCode}): is it running under this \`wharf up\`?\n`);
          res.resume();
          resolve(1);
          return;
        }
        res.setEncoding('utf8');
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
        res.on('data', (chunk: string) => {
          buffered += chunk;
          const parts = buffered.split('\n');
          buffered = parts.pop() ?? '';
          for (const p of parts) if (p) emit(JSON.parse(p) as Line);
          if (values.follow) setImmediate(flushBacklog);
        });
        res.on('end', () => {
          flushBacklog();
          resolve(0);
        });
        res.on('error', () => resolve(io.signal?.aborted ? 0 : 1));
      },
    );
    req.on('error', (err) => {
      if (io.signal?.aborted) return resolve(0);
      io.stderr(`cannot reach the local router on port ${port}: ${err.message}\n`);
      resolve(1);
    });
  });
}
