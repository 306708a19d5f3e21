/**
 * The local router forwards no cookie of Wharf's own: the browser sends the control plane's session to `127.0.0.1`
 * and `*.localhost` on any port, so without this every tenant's runtime could read (and replay) it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WHARF_COOKIES } from '@wharf/contracts';
import { silentLog } from '@wharf/testkit';
import t from 'tap';
import { createRouter, createUpstream } from '../src/targets/local/router.js';

t.test("the router strips Wharf's session and sign-in cookies and forwards the app's own", async (t) => {
  // A runtime that answers with the Cookie header it received.
  const runtime = http.createServer((req, res) => res.end(JSON.stringify({ cookie: req.headers.cookie ?? null })));
  await new Promise<void>((resolve) => runtime.listen(0, '127.0.0.1', resolve));
  const upstream = createUpstream((runtime.address() as AddressInfo).port);
  const router = await createRouter({ port: 0, log: silentLog });
  t.teardown(async () => {
    await router.close();
    upstream.agent.destroy();
    await new Promise((r) => runtime.close(r));
  });
  router.set({ envId: 1, label: 'e1-abc', friendly: null, upstream, unavailable: 'down' });
  const received = async (cookie: string, via: 'path' | 'host') => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get(
          { host: '127.0.0.1', port: router.port, path: via === 'path' ? '/e1-abc/' : '/', headers: { cookie, ...(via === 'host' ? { host: `e1-abc.localhost:${router.port}` } : {}) } },
          resolve,
        )
        .on('error', reject),
    );
    let body = '';
    for await (const chunk of res) body += String(chunk);
    return (JSON.parse(body) as { cookie: string | null }).cookie;
  };
  const session = `${WHARF_COOKIES.session}=s3cret-session-value`;
  for (const via of ['path', 'host'] as const) {
    t.equal(await received(`${session}; cart=3; ${WHARF_COOKIES.oauthState}=state; theme=dark`, via), 'cart=3; theme=dark', `${via}: the app's cookies, not Wharf's`);
    t.equal(await received(session, via), null, `${via}: no Cookie header when only Wharf's were sent`);
    t.equal(await received('cart=3', via), 'cart=3', `${via}: an app's cookies alone pass as they are`);
    t.equal(await received(`x_${WHARF_COOKIES.session}=kept; ${WHARF_COOKIES.session}_other=kept`, via), `x_${WHARF_COOKIES.session}=kept; ${WHARF_COOKIES.session}_other=kept`, 'only the exact names');
  }
});
