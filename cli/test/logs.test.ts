import { createTestDatabase, seedRepository, tempDir, tinyRuntimeCommand } from '@wharf/testkit';
import { createReconciler, createTargetRegistry } from '@wharf/reconciler';
import pino from 'pino';
import { seedEnvironments } from '@wharf/store/testing';
import t from 'tap';
import { runLogs } from '../src/commands/logs.js';

t.test('wharf logs prints the runtime output and follows it', async (t) => {
  const db = await createTestDatabase(t);
  const dataDir = await tempDir(t, 'wharf-cli-logs-');
  const stateDir = `${dataDir}/local`;
  const log = pino({ level: 'silent' });
  const targets = await createTargetRegistry({ local: { stateDir, runtimeCommand: tinyRuntimeCommand(), stopGraceMs: 1_000 } }, { log });
  t.teardown(() => targets.close());
  const local = targets.get('local');
  const { tenantId, repositoryId } = await seedRepository(db.pool);
  await seedEnvironments(db.pool, [
    {
      tenantId,
      repositoryId,
      app: 'shop',
      name: 'production',
      target: 'local',
      digest: 'sha256:abc',
      spec: { app: 'shop', environment: 'production', version: { sha: 'a'.repeat(40), digest: 'sha256:abc' }, files: [{ path: 'app.yaml', content: '# echo: hi\n' }], runtime: {}, replicas: 1, env: [] },
    },
  ]);
  await createReconciler({ pool: db.pool, targets, log }).reconcileOnce();
  let out = '';
  let err = '';
  // Read over the local target's log socket, found under WHARF_DATA_DIR/local (the router serves no logs).
  const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s), cwd: '/', pool: db.pool, env: { WHARF_DATA_DIR: dataDir } };
  t.equal(await runLogs(['production'], io), 0, err);
  t.match(out, /wharf {2}started pid \d+/);
  t.match(out, /stderr tiny runtime starting: 1 config file\(s\), digest sha256:abc/);
  t.match(out, /stdout listening http:\/\/127\.0\.0\.1:\d+/);
  out = '';
  t.equal(await runLogs(['production', '--lines', '1'], io), 0);
  t.equal(out.trim().split('\n').length, 1, '--lines limits the output');

  err = '';
  t.equal(await runLogs(['production'], { ...io, env: { WHARF_DATA_DIR: `${dataDir}/elsewhere` } }), 1, 'no local target there');
  t.match(err, /no local target is running here: start `wharf up` in this directory/);

  out = '';
  const controller = new AbortController();
  const following = runLogs(['production', '--follow'], { ...io, signal: controller.signal });
  await new Promise((r) => setTimeout(r, 300));
  process.kill(local?.pidOf(1) ?? 0, 'SIGKILL');
  const deadline = Date.now() + 15_000;
  while (!/runtime exited/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  t.equal(await following, 0);
  t.match(out, /wharf {2}runtime exited with code null; restarting in \d+ ms/, 'follow shows new lines as they come');
});
