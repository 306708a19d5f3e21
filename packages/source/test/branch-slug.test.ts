import t from 'tap';
import { branchSlug, canonicalJson } from '../src/index.js';

const DNS = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

t.test('branch slugs are DNS labels, stable and unique', async (t) => {
  const names = [
    'main',
    'feature/login',
    'feature-login',
    'Feature/Login',
    'FEATURE-LOGIN',
    'fix/ünïcode',
    'fix/unicode',
    '日本語',
    '☃',
    'production',
    'pr-12',
    'a'.repeat(63),
    'a'.repeat(64),
    `long/${'x'.repeat(245)}`,
    `long/${'x'.repeat(244)}y`,
    '-leading',
    'trailing-',
    'dots.in.name',
  ];
  const slugs = names.map(branchSlug);
  for (const [i, s] of slugs.entries()) t.match(s, DNS, `${JSON.stringify(names[i])} → ${s}`);
  t.equal(new Set(slugs).size, names.length, 'no two branches share a slug');
  t.same(names.map(branchSlug), slugs, 'stable');
  t.equal(branchSlug('main'), 'main', 'a name that is already a DNS label is kept');
  t.equal(branchSlug('a'.repeat(63)), 'a'.repeat(63));
  t.not(branchSlug('production'), 'production', 'reserved names are never used as is');
  t.not(branchSlug('pr-12'), 'pr-12');
  t.match(branchSlug('feature/login'), /^feature-login-[0-9a-f]{8}$/, 'readable prefix plus hash');
});

t.test('canonical JSON ignores key order and keeps array order', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
  t.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  t.not(canonicalJson([1, 2]), canonicalJson([2, 1]));
  t.equal(canonicalJson({ a: undefined, b: 'x' }), '{"b":"x"}');
});
