/**
 * A real Git smart-HTTP server on loopback: Node's http in front of `git http-backend` (CGI), serving every
 * repository under `projectRoot`. Clients (isomorphic-git, the git CLI) talk the real protocol to it.
 *
 * Never call `execFileSync('git', …)` against this server from the same process: the event loop that serves the
 * request is blocked. Use async execFile.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpRequestRecord {
  method: string;
  path: string;
  query: string;
  authorization?: string;
  /** The Git-Protocol header (`version=2` for protocol v2 requests such as ls-refs). */
  gitProtocol?: string;
  /**
   * Response body bytes the client took: written with backpressure, so a client that stops reading (or disconnects)
   * stops the count, short of what git would have sent. Updated as the response streams.
   */
  bytesSent: number;
  /** The client went away before the response was complete. */
  aborted: boolean;
}

export interface GitHttpServerOptions {
  /** Allow pushes (http-backend only accepts receive-pack from an authenticated user). */
  receivePack?: boolean;
  /**
   * Called before a request reaches git http-backend. Return true when the hook answered the request itself
   * (to simulate outages, slow remotes or authentication failures).
   */
  intercept?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

export interface GitHttpServer {
  /** Base URL; a repository at `${projectRoot}/foo.git` is `${url}/foo.git`. */
  url: string;
  /** Every request received, in order. */
  requests: GitHttpRequestRecord[];
  close(): Promise<void>;
}

export async function startGitHttpServer(projectRoot: string, options: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  const requests: GitHttpRequestRecord[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const record: GitHttpRequestRecord = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(u.pathname),
      query: u.search.slice(1),
      authorization: req.headers.authorization,
      gitProtocol: req.headers['git-protocol'] ? String(req.headers['git-protocol']) : undefined,
      bytesSent: 0,
      aborted: false,
    };
    requests.push(record);
    if (options.intercept?.(req, res)) return;
    const cgi = spawn('git', ['http-backend'], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(u.pathname),
        QUERY_STRING: u.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: req.socket.remoteAddress ?? '',
        REMOTE_USER: options.receivePack ? 'testkit' : '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
    });
    req.pipe(cgi.stdin);
    cgi.stdin.on('error', () => undefined);
    // A client that disconnects stops git: nothing more is produced or buffered for it.
    res.on('close', () => {
      if (!res.writableFinished) {
        record.aborted = true;
        cgi.kill('SIGKILL');
      }
    });
    // Backpressure: git's output is paused while the client is not reading.
    const send = (chunk: Buffer) => {
      record.bytesSent += chunk.length;
      if (!res.write(chunk)) {
        cgi.stdout.pause();
        res.once('drain', () => cgi.stdout.resume());
      }
    };
    let buf = Buffer.alloc(0);
    let headersSent = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        send(chunk);
        return;
      }
      buf = Buffer.concat([buf, chunk]);
      let sep = buf.indexOf('\r\n\r\n');
      let n = 4;
      if (sep < 0) {
        sep = buf.indexOf('\n\n');
        n = 2;
      }
      if (sep < 0) return;
      headersSent = true;
      let status = 200;
      for (const line of buf.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const key = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (key.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(key, value);
      }
      res.writeHead(status);
      send(buf.subarray(sep + n));
    });
    cgi.on('close', (code) => {
      if (headersSent) res.end();
      else res.writeHead(500).end(`git http-backend exited with ${code}`);
    });
    cgi.on('error', () => {
      if (!headersSent) res.writeHead(500).end('git http-backend failed to start');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
