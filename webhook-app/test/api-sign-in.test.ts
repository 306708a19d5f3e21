/**
 * Signing in with GitHub in a browser, through the REST API and testkit's strict fake of GitHub's OAuth web flow:
 * the state cookie, the code exchange, who becomes an owner of what, the session cookie's flags, CSRF on writes,
 * where the browser is sent back (never another site), signing out and expiry.
 */
import { sql } from '@wharf/store';
import { startFakeGitHubOAuth } from '@wharf/testkit';
import t from 'tap';
import { startApiHarness } from './helpers/api-harness.js';

const CLIENT = { clientId: 'Iv1.wharf-test', clientSecret: 'wharf-test-client-secret' };
const HOST = 'wharf.example.com';

type Cookies = Record<string, string>;

/** Cookies set by an answer, as name → value (a cleared cookie is gone). */
function cookiesOf(headers: Record<string, unknown>, into: Cookies = {}): Cookies {
  const set = headers['set-cookie'];
  for (const line of Array.isArray(set) ? set : set ? [String(set)] : []) {
    const [pair] = String(line).split(';');
    const at = pair?.indexOf('=') ?? -1;
    if (!pair || at < 0) continue;
    const name = pair.slice(0, at);
    const value = pair.slice(at + 1);
    if (value === '' || /Expires=Thu, 01 Jan 1970/i.test(String(line))) delete into[name];
    else into[name] = value;
  }
  return into;
}

const cookieHeader = (c: Cookies) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');

t.test('signing in with GitHub in a browser', async (t) => {
  const oauth = await startFakeGitHubOAuth(CLIENT);
  t.teardown(() => oauth.close());
  const h = await startApiHarness(t, {
    GITHUB_CLIENT_ID: CLIENT.clientId,
    GITHUB_CLIENT_SECRET: CLIENT.clientSecret,
    GITHUB_OAUTH_URL: oauth.url,
    GITHUB_API_URL: oauth.url,
    WHARF_API_LOCAL_OWNER: 'false',
  });
  // acme holds GitHub App installation 4242 of the GitHub organization acme.
  await h.db.pool.query(sql.unsafe`INSERT INTO github_installations (installation_id, tenant_id, account) VALUES ('4242', ${h.acme.tenantId}, 'acme')`);
  const installation = { id: 4242, account: { login: 'acme', type: 'Organization' as const } };

  /** The whole round trip of a browser: Wharf → GitHub's authorize page → back to Wharf's callback. */
  const signIn = async (next?: string, tamper?: (callback: URL) => void) => {
    const jar: Cookies = {};
    const start = await h.server.inject({ method: 'GET', url: `/api/v1/auth/github/login${next ? `?next=${encodeURIComponent(next)}` : ''}`, headers: { host: HOST } });
    t.equal(start.statusCode, 302, 'Wharf sends the browser to GitHub');
    cookiesOf(start.headers, jar);
    const authorize = await fetch(String(start.headers.location), { redirect: 'manual' });
    const callback = new URL(authorize.headers.get('location') ?? '');
    tamper?.(callback);
    const back = await h.server.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { host: HOST, cookie: cookieHeader(jar) } });
    cookiesOf(back.headers, jar);
    return { start, back, jar };
  };

  await t.test('an admin of the GitHub organization becomes an owner; the session cookie is HTTP-only, secure, same-site', async (t) => {
    oauth.signInAs({ id: 101, login: 'octo-admin', name: 'Octo Admin', installations: [installation], organizations: { acme: 'admin' } });
    const { start, back, jar } = await signIn('/environments?app=shop');
    const authorize = new URL(String(start.headers.location));
    t.equal(`${authorize.origin}${authorize.pathname}`, `${oauth.url}/login/oauth/authorize`);
    t.equal(authorize.searchParams.get('client_id'), CLIENT.clientId);
    t.equal(authorize.searchParams.get('redirect_uri'), `http://${HOST}/api/v1/auth/github/callback`);
    t.match(String(start.headers['set-cookie']), /wharf_oauth=.*HttpOnly.*SameSite=Lax/i, 'the state rides in an HTTP-only cookie');
    t.equal(back.statusCode, 302);
    t.equal(back.headers.location, '/environments?app=shop', 'back to the page asked for');
    const session = [back.headers['set-cookie']].flat().find((c) => String(c).startsWith('wharf_session='));
    t.match(String(session), /HttpOnly/);
    t.match(String(session), /Secure/);
    t.match(String(session), /SameSite=Lax/i);
    t.notOk(jar.wharf_oauth, 'the state cookie is used once');

    const me = await h.call('GET', '/api/v1/session', { headers: { host: HOST, cookie: cookieHeader(jar) } });
    t.equal(me.status, 200);
    t.equal(me.body.user.login, 'octo-admin');
    t.equal(me.body.via, 'browser');
    t.same(me.body.organizations.map((o: { slug: string; role: string }) => [o.slug, o.role]), [['acme', 'owner']], 'owner of the organization holding the installation');
    const audit = await h.db.pool.anyFirst(sql.unsafe`SELECT action FROM audit_log WHERE tenant_id = ${h.acme.tenantId} AND actor = 'user:octo-admin'`);
    t.same(audit, ['member.add'], 'the membership is in the audit log');

    const env = h.acme.environmentIds[0];
    const cookie = cookieHeader(jar);
    const forged = await h.call('POST', `/api/v1/environments/${env}/suspend`, { headers: { host: HOST, cookie }, body: {} });
    t.equal(forged.status, 403, 'a write without the CSRF token is refused');
    t.equal(forged.body.code, 'csrf-failed');
    const done = await h.call('POST', `/api/v1/environments/${env}/suspend`, { headers: { host: HOST, cookie, 'x-csrf-token': me.body.csrfToken }, body: {} });
    t.equal(done.status, 200, 'with it, the owner acts');

    const out = await h.call('DELETE', '/api/v1/session', { headers: { host: HOST, cookie, 'x-csrf-token': me.body.csrfToken } });
    t.equal(out.status, 204);
    const after = await h.call('GET', '/api/v1/session', { headers: { host: HOST, cookie } });
    t.equal(after.status, 401, 'the signed-out cookie no longer works, even if the browser kept it');
    t.same(oauth.refused, [], 'every request to GitHub was one it accepts');
  });

  await t.test('a member who does not administer the GitHub organization gets an organization of their own, not acme', async (t) => {
    oauth.signInAs({ id: 102, login: 'octo-member', installations: [installation], organizations: { acme: 'member' } });
    const { back, jar } = await signIn();
    t.equal(back.headers.location, '/');
    const me = await h.call('GET', '/api/v1/session', { headers: { host: HOST, cookie: cookieHeader(jar) } });
    t.same(me.body.organizations.map((o: { slug: string; role: string; kind: string }) => [o.slug, o.role, o.kind]), [['octo-member', 'owner', 'team']]);
    const list = await h.call('GET', '/api/v1/environments', { headers: { host: HOST, cookie: cookieHeader(jar) } });
    t.same(list.body.items, [], "none of acme's environments");
  });

  await t.test('a forged or replayed callback makes no session', async (t) => {
    oauth.signInAs({ id: 103, login: 'mallory' });
    const sessionsBefore = Number(await h.db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM sessions`));
    const forged = await signIn('/', (cb) => cb.searchParams.set('state', 'state-of-another-browser'));
    t.equal(forged.back.statusCode, 400, 'another state than the one in this browser’s cookie');
    t.equal(JSON.parse(forged.back.body).code, 'sign-in-failed');
    t.notOk(forged.jar.wharf_session);
    const replayed = await signIn('/', (cb) => cb.searchParams.set('code', 'a-code-github-never-gave'));
    t.equal(replayed.back.statusCode, 400, 'a code GitHub does not know');
    t.equal(JSON.parse(replayed.back.body).code, 'sign-in-failed');
    const noCookie = await h.server.inject({ method: 'GET', url: '/api/v1/auth/github/callback?code=x&state=y', headers: { host: HOST } });
    t.equal(noCookie.statusCode, 400, 'a callback the browser did not start');
    // The state cookie is signed: writing one's own state into it does not pass.
    const unsigned = await h.server.inject({ method: 'GET', url: '/api/v1/auth/github/callback?code=x&state=mine', headers: { host: HOST, cookie: 'wharf_oauth=mine|/' } });
    t.equal(unsigned.statusCode, 400, 'an unsigned state cookie');
    const tampered = await h.server.inject({ method: 'GET', url: '/api/v1/auth/github/callback?code=x&state=mine', headers: { host: HOST, cookie: `wharf_oauth=${encodeURIComponent(`mine|/.${'A'.repeat(43)}`)}` } });
    t.equal(tampered.statusCode, 400, 'a state cookie with a made-up signature');
    t.equal(Number(await h.db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM sessions`)), sessionsBefore, 'no session was made');
    t.same(oauth.refused, ['POST /login/oauth/access_token: bad verification code'], 'GitHub refused the made-up code, as it does');
    oauth.refused.length = 0;
  });

  await t.test('the way back is a path on this Wharf, never another site', async (t) => {
    oauth.signInAs({ id: 104, login: 'octo-traveller' });
    for (const next of ['//evil.example/steal', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const { back } = await signIn(next);
      t.equal(back.headers.location, '/', `${next} → /`);
    }
  });

  await t.test('an expired session is refused', async (t) => {
    oauth.signInAs({ id: 105, login: 'octo-late' });
    const { jar } = await signIn();
    await h.db.pool.query(sql.unsafe`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE kind = 'browser'`);
    const me = await h.call('GET', '/api/v1/session', { headers: { host: HOST, cookie: cookieHeader(jar) } });
    t.equal(me.status, 401);
    t.equal(me.body.code, 'invalid-credentials');
  });
});
