import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createHttpClient, RemoteTimeoutError } from '../src/remote/http-client.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(t: { teardown(fn: () => unknown): void }, handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const drain = async (body: AsyncIterable<Uint8Array> | undefined) => {
  let n = 0;
  for await (const c of body ?? []) n += c.byteLength;
  return n;
};

t.test('a remote that stops sending in the middle of a body times out', async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200);
    res.write(Buffer.alloc(1000)); // then nothing, ever
  });
  const client = createHttpClient({ timeoutMs: 300 });
  const res = await client.request({ url });
  t.equal(res.statusCode, 200);
  await t.rejects(drain(res.body), RemoteTimeoutError);
});

t.test('a reader that stops early ends the transfer: the remote sees the connection close', async (t) => {
  let closed!: () => void;
  const sawClose = new Promise<void>((resolve) => (closed = resolve));
  let sent = 0;
  const url = await serve(t, (_req, res) => {
    res.writeHead(200);
    const pump = () => {
      while (sent < 512 * 1024 * 1024) {
        sent += 64 * 1024;
        if (!res.write(Buffer.alloc(64 * 1024))) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => closed());
    pump();
  });
  const client = createHttpClient({ timeoutMs: 5000 });
  const res = await client.request({ url });
  let read = 0;
  for await (const c of res.body ?? []) {
    read += c.byteLength;
    if (read > 1024 * 1024) break;
  }
  await sawClose;
  t.ok(sent < 64 * 1024 * 1024, `the remote stopped after ${sent} bytes of 512 MiB (backpressure, then close)`);
});

t.test('redirects are followed; credentials go to the same origin only', async (t) => {
  const seen: { where: string; authorization?: string }[] = [];
  const other = await serve(t, (req, res) => {
    seen.push({ where: 'other', authorization: req.headers.authorization });
    res.end('elsewhere');
  });
  const url = await serve(t, (req, res) => {
    seen.push({ where: req.url ?? '', authorization: req.headers.authorization });
    if (req.url === '/moved') return void res.writeHead(301, { location: '/here' }).end();
    if (req.url === '/away') return void res.writeHead(302, { location: `${other}/x` }).end();
    res.end('here');
  });
  const client = createHttpClient({ timeoutMs: 5000 });
  const headers = { Authorization: 'Basic c2VjcmV0' };
  const same = await client.request({ url: `${url}/moved`, headers });
  t.equal(same.url, `${url}/here`);
  t.equal(await drain(same.body), 4);
  const away = await client.request({ url: `${url}/away`, headers });
  await drain(away.body);
  t.same(seen, [
    { where: '/moved', authorization: 'Basic c2VjcmV0' },
    { where: '/here', authorization: 'Basic c2VjcmV0' },
    { where: '/away', authorization: 'Basic c2VjcmV0' },
    { where: 'other', authorization: undefined },
  ]);
});
