/**
 * The layering `npm run verify` enforces (eslint.config.js): contracts imports nothing of Wharf's, only the store
 * talks SQL, nobody reaches into another workspace's internals or tests, test helpers never ship.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import t from 'tap';

const root = path.resolve(import.meta.dirname, '../../..');
const eslint = new ESLint({ cwd: root });

async function refused(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

t.test('contracts imports nothing of ours', async (t) => {
  t.match(await refused('packages/contracts/src/x.ts', "import { sql } from '@wharf/store';\nexport const x = sql;"), [/imports nothing of Wharf/]);
  t.same(await refused('packages/contracts/src/x.ts', "import { parse } from 'yaml';\nexport const x = parse;"), []);
});

t.test('only the store talks SQL', async (t) => {
  for (const file of ['reconciler/src/x.ts', 'webhook-app/src/x.ts', 'packages/source/src/x.ts', 'cli/test/x.test.ts', 'bench/x.ts']) {
    t.match(await refused(file, "import pg from 'pg';\nexport const x = pg;"), [/only packages\/store talks SQL/], file);
    t.match(await refused(file, "import { sql } from 'slonik';\nexport const x = sql;"), [/only packages\/store talks SQL/], file);
  }
  t.same(await refused('packages/store/src/x.ts', "import pg from 'pg';\nexport const x = pg;"), []);
});

t.test("nobody imports another workspace's src/ internals or test/", async (t) => {
  t.match(await refused('bench/x.ts', "import { setup } from '../packages/source/test/helpers/setup.js';\nexport const x = setup;"), [/not an import/]);
  t.match(await refused('reconciler/src/x.ts', "import { x } from '@wharf/source/src/index.js';\nexport const y = x;"), [/internals/, /not an import/]);
  t.match(await refused('cli/test/x.test.ts', "import { h } from '../../webhook-app/test/helpers/harness.js';\nexport const y = h;"), [/not an import/]);
  t.same(await refused('reconciler/test/x.test.ts', "import { x } from '../src/index.js';\nexport const y = x;"), [], 'a workspace reads its own src');
});

t.test('test helpers and seeding are for tests and benchmarks only', async (t) => {
  t.match(await refused('reconciler/src/x.ts', "import { tempDir } from '@wharf/testkit';\nexport const x = tempDir;"), [/test\/ and bench\/ only/]);
  t.match(await refused('webhook-app/src/x.ts', "import { seedEnvironments } from '@wharf/store/testing';\nexport const x = seedEnvironments;"), [/test\/ and bench\/ only/]);
  t.same(await refused('reconciler/test/x.test.ts', "import { tempDir } from '@wharf/testkit';\nexport const x = tempDir;"), []);
});
