/** kube-http: a kept-alive connection the API server closed while idle is not an outage (sent once more); a real one is. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { silentLog } from '@wharf/testkit';
import { connectCluster } from '../src/index.js';
import { KubeUnreachableError } from '../src/kubernetes/kube-http.js';

/** A server that answers the first request of each connection and drops the connection at the `dropAt`-th one. */
async function dropping(dropAt: number) {
  let sockets = 0;
  const seen: string[] = [];
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const s = req.socket as typeof req.socket & { wharfId?: number; wharfCount?: number };
    s.wharfId ??= ++sockets;
    s.wharfCount = (s.wharfCount ?? 0) + 1;
    seen.push(`${req.method} ${req.url} socket ${s.wharfId} #${s.wharfCount} ${req.headers.authorization}`);
    if (s.wharfCount === dropAt) {
      s.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', n: seen.length }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, seen, port: (server.address() as AddressInfo).port };
}

async function kubeconfigFor(dir: string, port: number): Promise<string> {
  const file = path.join(dir, 'kubeconfig');
  await writeFile(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: c, cluster: { server: "http://127.0.0.1:' + port + '", insecure-skip-tls-verify: true } }]',
      'users: [{ name: u, user: { token: t0k3n } }]',
      'contexts: [{ name: ctx, context: { cluster: c, user: u } }]',
      'current-context: ctx',
    ].join('\n'),
  );
  return file;
}

const what = { verb: 'get', resource: 'namespaces' };

t.test('a request on a kept-alive connection the server dropped is sent again on a new one, once', async (t) => {
  const { server, seen, port } = await dropping(2);
  t.teardown(() => new Promise((r) => server.close(r)));
  const conn = await connectCluster(await kubeconfigFor(t.testdir(), port), null, silentLog);
  t.teardown(() => conn.close());

  t.match(await conn.api.http.request({ method: 'GET', path: '/api/v1/namespaces/a', what }), { n: 1 });
  t.match(await conn.api.http.request({ method: 'GET', path: '/api/v1/namespaces/b', what }), { n: 3 }, 'answered after the dropped connection');
  t.same(
    seen,
    ['GET /api/v1/namespaces/a socket 1 #1 Bearer t0k3n', 'GET /api/v1/namespaces/b socket 1 #2 Bearer t0k3n', 'GET /api/v1/namespaces/b socket 2 #1 Bearer t0k3n'],
    'the same request, with the kubeconfig credentials, on a second connection',
  );
});

t.test('a server that drops a new connection is unreachable: no retry', async (t) => {
  const { server, seen, port } = await dropping(1);
  t.teardown(() => new Promise((r) => server.close(r)));
  const conn = await connectCluster(await kubeconfigFor(t.testdir(), port), null, silentLog);
  t.teardown(() => conn.close());

  await t.rejects(conn.api.http.request({ method: 'GET', path: '/api/v1/namespaces/a', what }), KubeUnreachableError);
  t.equal(seen.length, 1, 'asked once');
});
