/** `/healthz`, `/readyz` and `/metrics` of a reconciler that runs alone (in `wharf up` the control plane serves them). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

export async function startHealthServer(options: { host: string; port: number; registry: Registry; ready: () => Promise<void> }): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => res.writeHead(status, { 'content-type': type }).end(body);
    if (req.method !== 'GET') return send(405, '{"error":"method not allowed"}');
    if (req.url === '/healthz') return send(200, '{"status":"ok"}');
    if (req.url === '/readyz') {
      options.ready().then(
        () => send(200, '{"status":"ready"}'),
        (err: Error) => send(503, JSON.stringify({ status: 'not ready', error: err.message })),
      );
      return;
    }
    if (req.url === '/metrics') {
      options.registry.metrics().then(
        (text) => send(200, text, options.registry.contentType),
        () => send(500, '{"error":"metrics failed"}'),
      );
      return;
    }
    send(404, '{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
