import { createSign, generateKeyPairSync } from 'node:crypto';
import { startFakeGitHub } from '@wharf/testkit';
import t from 'tap';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(claims: Record<string, unknown>, key = privateKey): string {
  const head = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createSign('RSA-SHA256').update(head).sign(key).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

t.test('the fake answers as GitHub does: 404 unknown, 401 bad credentials, 422 bad bodies; it keeps state', async (t) => {
  const fake = await startFakeGitHub({ appId: 42, publicKey, installations: [{ id: 7, account: 'acme', repositories: ['acme/shop'] }] });
  t.teardown(() => fake.close());
  const call = (method: string, path: string, init: { token?: string; body?: unknown } = {}) =>
    fetch(`${fake.url}${path}`, {
      method,
      headers: { accept: 'application/vnd.github+json', ...(init.token ? { authorization: init.token } : {}), 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> | null, headers: r.headers }));

  const unknown = await call('GET', '/repos/acme/shop/no-such-thing');
  t.equal(unknown.status, 404);
  t.equal(unknown.body?.message, 'Not Found');
  t.equal((await call('DELETE', '/repos/acme/shop/check-runs')).status, 404, 'a known path with an unknown method is 404');

  t.equal((await call('POST', '/app/installations/7/access_tokens')).status, 401, 'no JWT');
  const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  t.equal((await call('POST', '/app/installations/7/access_tokens', { token: `Bearer ${jwt({ iss: 42, iat: now() - 30, exp: now() + 500 }, other.privateKey)}` })).status, 401, 'signed with another key');
  t.equal((await call('POST', '/app/installations/7/access_tokens', { token: `Bearer ${jwt({ iss: 41, iat: now() - 30, exp: now() + 500 })}` })).status, 401, 'another App');
  t.equal((await call('POST', '/app/installations/7/access_tokens', { token: `Bearer ${jwt({ iss: 42, iat: now() - 30, exp: now() + 3600 })}` })).status, 401, 'longer than 10 minutes');
  const minted = await call('POST', '/app/installations/7/access_tokens', { token: `Bearer ${jwt({ iss: 42, iat: now() - 30, exp: now() + 500 })}` });
  t.equal(minted.status, 201);
  const token = `token ${minted.body?.token}`;

  t.equal((await call('POST', '/repos/acme/shop/check-runs', { token: 'token ghs_made_up', body: { name: 'x', head_sha: 'a'.repeat(40) } })).status, 401, 'a made-up token');
  t.equal((await call('POST', '/repos/other/repo/check-runs', { token, body: { name: 'x', head_sha: 'a'.repeat(40) } })).status, 404, 'a repository outside the installation');
  const bad = await call('POST', '/repos/acme/shop/check-runs', { token, body: { name: 'x', head_sha: 'a'.repeat(40), status: 'finished' } });
  t.equal(bad.status, 422, 'a value outside the enum');
  t.match(bad.body?.message, /status/);
  const tooMany = Array.from({ length: 51 }, (_, i) => ({ path: 'a.yaml', start_line: i + 1, end_line: i + 1, annotation_level: 'warning', message: 'm' }));
  t.equal((await call('POST', '/repos/acme/shop/check-runs', { token, body: { name: 'x', head_sha: 'a'.repeat(40), output: { title: 't', summary: 's', annotations: tooMany } } })).status, 422, 'more than 50 annotations');
  t.equal((await call('POST', '/repos/acme/shop/check-runs', { token, body: { name: 'x', head_sha: 'a'.repeat(40), output: { title: 't', summary: 's'.repeat(65_536) } } })).status, 422, 'a summary over 65,535 characters');
  t.equal((await call('POST', '/repos/acme/shop/deployments', { token, body: { environment: 'x' } })).status, 422, 'a deployment without ref');

  const created = await call('POST', '/repos/acme/shop/check-runs', { token, body: { name: 'wharf/validate', head_sha: 'b'.repeat(40), status: 'completed', conclusion: 'success', output: { title: 'ok', summary: 'fine' } } });
  t.equal(created.status, 201);
  t.equal(fake.state.latestCheckRun('acme/shop', 'b'.repeat(40), 'wharf/validate')?.conclusion, 'success');

  fake.inject({ fault: { kind: 'rate-limit', resetInSeconds: 30 }, method: 'POST', template: '/repos/{owner}/{repo}/issues/{issue_number}/comments' });
  const limited = await call('POST', '/repos/acme/shop/issues/1/comments', { token, body: { body: 'hi' } });
  t.equal(limited.status, 403);
  t.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  t.ok(Number(limited.headers.get('x-ratelimit-reset')) > now(), 'says when the limit resets');
  t.equal((await call('POST', '/repos/acme/shop/issues/1/comments', { token, body: { body: 'hi' } })).status, 201, 'the fault was used once');
  t.equal(fake.state.commentsOn('acme/shop', 1).length, 1);
  t.same(fake.problems, []);
  t.equal((await call('GET', '/repos/acme/shop/topics', { token })).status, 501, 'a real operation the fake does not keep is reported');
  t.equal(fake.problems.length, 1);
});
