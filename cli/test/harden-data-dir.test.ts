import { chmod, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLog, tempDir } from '@wharf/testkit';
import t from 'tap';
import { hardenDataDir } from '../src/up/harden-data-dir.js';

const mode = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8);

t.test("Wharf's own files become Wharf's alone; nothing else in the directory is touched", async (t) => {
  const dir = await tempDir(t, 'wharf-harden-');
  const data = path.join(dir, 'data');
  await mkdir(path.join(data, 'pg'), { recursive: true });
  await mkdir(path.join(data, 'local'), { mode: 0o711 });
  await mkdir(path.join(data, 'my-project'), { mode: 0o755 });
  for (const f of ['github-app.pem', 'wharf-password', 'wharf.log', 'notes.txt']) await writeFile(path.join(data, f), 'x', { mode: 0o644 });
  await writeFile(path.join(data, 'build.sh'), '#!/bin/sh\n', { mode: 0o755 });
  // A link named like one of Wharf's files must not carry the chmod elsewhere.
  await writeFile(path.join(dir, 'outside'), 'x', { mode: 0o644 });
  await symlink(path.join(dir, 'outside'), path.join(data, 'github-app.env'));
  await chmod(path.join(data, 'pg'), 0o755);

  await hardenDataDir(data, { log: silentLog });
  t.equal(await mode(data), '711');
  t.equal(await mode(path.join(data, 'pg')), '700');
  for (const f of ['github-app.pem', 'wharf-password', 'wharf.log']) t.equal(await mode(path.join(data, f)), '600', f);
  t.equal(await mode(path.join(data, 'local')), '711', "the local target's state dir is left to the target");
  t.equal(await mode(path.join(data, 'my-project')), '755', 'a directory Wharf does not own is untouched');
  t.equal(await mode(path.join(data, 'notes.txt')), '644');
  t.equal(await mode(path.join(data, 'build.sh')), '755');
  t.equal(await mode(path.join(dir, 'outside')), '644', 'a symlink is not followed');
});
