import t from 'tap';
import { environmentLabel, friendlyLabel, isLabel } from '../src/targets/local/host-label.js';

const key = Buffer.alloc(32, 7);
const id = (tenantId: number, repositoryId: number, app = 'hello-api', name = 'production') => ({ tenantId, repositoryId, app, name });

t.test('one label per identity: stable, different across tenants and repositories, unambiguous', async (t) => {
  const a = environmentLabel(id(1, 1), key);
  t.equal(environmentLabel(id(1, 1), key), a, 'stable');
  t.match(a, /^production--hello-api-[0-9a-f]{16}$/, 'readable prefix and a hash');
  const others = [id(2, 1), id(1, 2), id(12, 3), id(1, 23), id(1, 1, 'hello-api', 'pr-1'), id(1, 1, 'other')].map((i) => environmentLabel(i, key));
  t.equal(new Set([a, ...others]).size, others.length + 1, 'every identity its own label (1/23 and 12/3 included)');
  t.not(environmentLabel(id(1, 1), Buffer.alloc(32, 8)), a, 'another key, another label: not guessable from ids');
});

t.test('labels are DNS labels of at most 63 characters, whatever the names', async (t) => {
  const long = 'a'.repeat(40);
  const branch = `feature-${'x'.repeat(50)}-1a2b3c4d`;
  for (const l of [environmentLabel(id(1, 1, long, branch), key), environmentLabel(id(1, 1, 'x', 'y'), key), environmentLabel(id(1, 1, '---', '---'), key)]) {
    t.ok(l.length <= 63, `${l} fits`);
    t.ok(isLabel(l), `${l} is a DNS label`);
  }
  t.equal(friendlyLabel('hello-api', 'production'), 'production--hello-api');
  t.equal(friendlyLabel(long, branch), null, 'a friendly label over 63 characters is not offered');
});
