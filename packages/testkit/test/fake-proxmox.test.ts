/** The fake Proxmox is strict and its API description is fresh: raw HTTPS requests, as any client would send them. */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import t from 'tap';
import { startFakeProxmox, type FakeProxmox } from '../src/fake-proxmox/index.js';
import { generateFromInstalledPackage, VENDORED_SCHEMA } from '../src/fake-proxmox/schema/generate-pve-schema.js';

const TOKEN = 'PVEAPIToken=ci@pve!test=s3cret';

function call(fake: FakeProxmox, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; reason: string; json: unknown }>((resolve, reject) => {
    const url = new URL(`/api2/json${path}`, fake.url);
    const req = request(
      url,
      { method, rejectUnauthorized: false, headers: { authorization: TOKEN, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

t.test('the vendored API description is what the generator makes from proxmox-api', async (t) => {
  t.equal(readFileSync(VENDORED_SCHEMA, 'utf8'), generateFromInstalledPackage(), 'run generate-pve-schema.ts and commit the result');
});

t.test('requests are checked against the PVE schema and answered in PVE shapes', async (t) => {
  const fake = await startFakeProxmox({
    templates: [{ vmid: 9000, node: 'pve1', name: 'tpl' }],
    tokens: [{ id: 'ci@pve!test', secret: 's3cret', acl: [{ path: '/', privileges: ['VM.Audit', 'VM.Clone', 'VM.Allocate', 'Datastore.AllocateSpace', 'SDN.Use'] }] }],
  });
  t.teardown(() => fake.close());
  t.match(fake.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

  const unknownParam = await call(fake, 'GET', '/cluster/nextid?color=blue');
  t.equal(unknownParam.status, 400);
  t.equal(unknownParam.reason, 'Parameter verification failed.');
  t.same(unknownParam.json, { errors: { color: 'property is not defined in schema and the schema does not allow additional properties' }, data: null });

  const bad = await call(fake, 'POST', '/nodes/pve1/qemu/9000/clone', 'newid=101&full=true&bwlimit=-1');
  t.same(bad.json, { errors: { full: "type check ('boolean') failed - got 'true'", bwlimit: 'value must have a minimum value of 0' }, data: null });
  const missing = await call(fake, 'POST', '/nodes/pve1/qemu/9000/clone', 'full=1');
  t.same(missing.json, { errors: { newid: 'property is missing and it is not optional' }, data: null });

  const unknownPath = await call(fake, 'GET', '/nodes/pve1/qemu/9000/frobnicate');
  t.equal(unknownPath.status, 501);
  t.equal(unknownPath.reason, "Method 'GET /nodes/pve1/qemu/9000/frobnicate' not implemented");

  const json = await call(fake, 'POST', '/nodes/pve1/qemu/9000/clone', '{"newid":101}', { 'content-type': 'application/json' });
  t.equal(json.status, 415, 'bodies must be form-encoded');

  const noAuth = await call(fake, 'GET', '/version', undefined, { authorization: '' });
  t.same([noAuth.status, noAuth.reason, noAuth.json], [401, 'No ticket', { data: null }]);
  const wrongSecret = await call(fake, 'GET', '/version', undefined, { authorization: 'PVEAPIToken=ci@pve!test=nope' });
  t.same([wrongSecret.status, wrongSecret.reason], [401, 'invalid token value!']);
  const noToken = await call(fake, 'GET', '/version', undefined, { authorization: 'PVEAPIToken=ci@pve!other=s3cret' });
  t.same([noToken.status, noToken.reason], [401, "no such token 'other' for user 'ci@pve'"]);

  const next = await call(fake, 'GET', '/cluster/nextid');
  t.same(next.json, { data: '100' }, 'nextid in the {data} envelope, as a string');
  const upid = ((await call(fake, 'POST', '/nodes/pve1/qemu/9000/clone', 'newid=100&name=web&full=0')).json as { data: string }).data;
  t.match(upid, /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmclone:9000:ci@pve!test:$/);
  const collision = await call(fake, 'POST', '/nodes/pve1/qemu/9000/clone', 'newid=100&full=0');
  t.same([collision.status, collision.reason, collision.json], [500, 'unable to create VM 100: config file already exists', { data: null }]);
  const status = async () => ((await call(fake, 'GET', `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).json as { data: { status: string; exitstatus?: string } }).data;
  t.equal((await status()).status, 'running', 'a task is seen running before it stops');
  let s = await status();
  while (s.status === 'running') s = await status();
  t.equal(s.exitstatus, 'OK');
  const denied = await call(fake, 'POST', '/nodes/pve1/qemu/100/status/start');
  t.same([denied.status, denied.reason], [403, 'Permission check failed (/vms/100, VM.PowerMgmt)']);
  fake.failProxy('pve1', 597);
  t.same((await call(fake, 'GET', '/nodes/pve1/status')).status, 597);
  t.same(fake.problems, []);
});
