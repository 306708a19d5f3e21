/**
 * `wharf logs` reads an environment's log from the process that runs the local target, over a Unix socket that only
 * Wharf's own user can open (mode 600, in a directory runtimes cannot list): the file system is the authentication.
 * Runtimes (another user when Wharf runs as root) and the network cannot reach it; the router serves no logs.
 *
 *   GET /logs/<environment id>[?follow=1][&tail=N]  →  application/x-ndjson, one LogLine per line
 *
 * A Unix socket path is at most 107 bytes: a state dir deeper than that gets its socket in a private directory under
 * the system temp dir (mode 700, owned by Wharf's user, checked before use), named after the state dir.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LogLine, LogOptions } from '@wharf/contracts';
import type { Logger } from 'pino';

const MAX_SOCKET_PATH = 100;
const SOCKET_NAME = 'logs.sock';

/** Where the local target of `stateDir` serves logs (the same answer in `wharf logs` and in the target). */
export function logSocketPath(stateDir: string): string {
  const inState = path.join(path.resolve(stateDir), SOCKET_NAME);
  if (Buffer.byteLength(inState) <= MAX_SOCKET_PATH) return inState;
  const key = createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 16);
  return path.join(tmpdir(), `wharf-${process.getuid?.() ?? 0}-${key}`, SOCKET_NAME);
}

/** The socket's directory, when it is not the state dir: created mode 700, and refused unless it is ours. */
async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== (process.getuid?.() ?? info.uid) || (info.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private directory of this user: refusing to serve logs there`);
  }
}

export interface LogSocket {
  readonly path: string;
  close(): Promise<void>;
}

export async function serveLogSocket(options: {
  stateDir: string;
  log: Logger;
  /** An environment's log stream; undefined when the target knows no such environment. */
  logs(envId: number, options: LogOptions): AsyncIterable<LogLine> | undefined;
}): Promise<LogSocket> {
  const socketPath = logSocketPath(options.stateDir);
  const dir = path.dirname(socketPath);
  if (dir !== path.resolve(options.stateDir)) await privateDir(dir);
  // A socket left by a process that died; a live one answers, and then listen fails with EADDRINUSE as it should.
  const left = await lstat(socketPath).catch(() => undefined);
  if (left?.isSocket() && !(await answers(socketPath))) await rm(socketPath, { force: true });
  const log = options.log.child({ component: 'log-socket' });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://wharf');
    const m = /^\/logs\/(\d{1,15})$/.exec(url.pathname);
    const tail = Number(url.searchParams.get('tail') ?? '');
    const closed = new AbortController();
    const lines = m
      ? options.logs(Number(m[1]), {
          follow: url.searchParams.get('follow') === '1',
          ...(Number.isSafeInteger(tail) && tail > 0 ? { tail } : {}),
          signal: closed.signal,
        })
      : undefined;
    if (!lines) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such environment here\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // A follower with nothing kept yet must see the headers now, not with the first line.
    res.flushHeaders();
    res.on('close', () => closed.abort());
    void (async () => {
      for await (const l of lines) res.write(`${JSON.stringify(l)}\n`);
      res.end();
    })().catch((err) => {
      log.debug({ err }, 'log stream ended');
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Only Wharf's user may connect (connecting needs write permission on the socket file).
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
  await chmod(socketPath, 0o600);
  return {
    path: socketPath,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/logs/0', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}
