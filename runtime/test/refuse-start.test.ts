import { join } from 'node:path';
import t from 'tap';
import { runRefusing } from './helpers/start-runtime.js';

t.test('a broken config is refused before listening, with every problem listed', async (t) => {
  const res = await runRefusing(['--config', join(import.meta.dirname, 'fixtures', 'broken-app.yaml')]);
  t.equal(res.code, 1, 'exits 1');
  t.equal(res.stdout, '', 'never prints a listening line');
  t.match(res.stderr, /pipeline p step e: \$\{ \} expressions are not supported/, 'dollar-brace expressions are refused');
});

t.test('template, jq and routing problems are all reported together', async (t) => {
  const res = await runRefusing(['--config', join(import.meta.dirname, 'fixtures', 'broken-templates.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /step t\.values\.a: template error: unexpected EOF: missing \{\{end\}\}/);
  t.match(res.stderr, /step c \(step\.conditional\): routes to unknown step "nowhere"/);
  t.match(res.stderr, /step j: invalid jq expression: jq: error: syntax error/);
  t.notMatch(res.stderr, /^\s+- .*nodb/m, 'a step naming a database the config lacks is no reason to refuse: as in the engine, it fails when it runs');
  t.notMatch(res.stderr, /step ok: invalid jq/, 'a jq expression that only fails on null input is accepted');
});

t.test('bad flags print usage', async (t) => {
  const res = await runRefusing([]);
  t.equal(res.code, 2);
  t.match(res.stderr, /usage: wharf-runtime --config FILE/);
});
