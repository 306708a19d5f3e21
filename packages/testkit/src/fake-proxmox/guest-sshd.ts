/**
 * A fake guest's operating system: a real OpenSSH sshd (Debian's openssh-server) on its own loopback address,
 * in its own mount and PID namespaces. The guest's /etc/passwd, /etc/group and /etc/shadow are bind-mounted over the
 * host's inside the namespace, so its login user (cloud-init's `ciuser`, or `root` in a container) exists only
 * there and maps to an unprivileged host uid of its own, like an unprivileged LXC container's root. Everything
 * started over SSH lives in the guest's PID namespace: stopping the guest kills sshd (PID 1 there) and the kernel
 * kills the rest.
 *
 * Needs root (namespaces, bind mounts, port 22) and /usr/sbin/sshd: `ensureOpenSshServer()` installs it with
 * apt-get when it is missing, as `.ci/run` does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

/** Installs Debian's openssh-server when sshd is missing and we are root (tests call it in their set-up). */
export async function ensureOpenSshServer(): Promise<void> {
  if (existsSync(SSHD)) return;
  if (process.getuid?.() !== 0) throw new Error(`${SSHD} is missing: install openssh-server (apt-get install openssh-server)`);
  await run('apt-get', ['update', '-qq'], { timeout: 300_000 });
  await run('apt-get', ['install', '-y', '-qq', 'openssh-server'], {
    timeout: 300_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export interface GuestOs {
  /** The guest's own directory: its /etc files, host keys and home directories. Kept while the guest exists. */
  dir: string;
  hostname: string;
}

export interface GuestBoot extends GuestOs {
  address: string;
  port: number;
  /** Login name inside the guest. */
  user: string;
  /** The unprivileged host uid (and gid) the login user maps to. */
  uid: number;
  /** authorized_keys content (one OpenSSH public key per line). */
  authorizedKeys: string;
}

export interface RunningGuestSshd {
  pid: number;
  /** The home directory of the login user, as a host path. */
  home: string;
  output(): string;
  /** Stops sshd and every process of the guest; resolves once they are gone. */
  stop(): Promise<void>;
  exited: Promise<void>;
}

function hostKeyPath(os: GuestOs): string {
  return path.join(os.dir, 'ssh', 'ssh_host_ed25519_key');
}

/** Creates the guest's host key on first boot (a cloned disk gets new keys from cloud-init, as real clones do). */
export async function ensureHostKey(os: GuestOs): Promise<string> {
  const key = hostKeyPath(os);
  if (!existsSync(key)) {
    await mkdir(path.dirname(key), { recursive: true, mode: 0o700 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${os.hostname}`, '-f', key]);
  }
  return (await readFile(`${key}.pub`, 'utf8')).trim();
}

/** Replaces the guest's host key (a reinstalled guest, or a machine in the middle). */
export async function replaceHostKey(os: GuestOs): Promise<string> {
  await rm(hostKeyPath(os), { force: true });
  await rm(`${hostKeyPath(os)}.pub`, { force: true });
  return ensureHostKey(os);
}

async function hostSshdUid(): Promise<number> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('sshd:'));
  return line ? Number(line.split(':')[2]) : 65534;
}

export async function startGuestSshd(boot: GuestBoot): Promise<RunningGuestSshd> {
  const etc = path.join(boot.dir, 'etc');
  const home = path.join(boot.dir, 'home', boot.user);
  await mkdir(etc, { recursive: true });
  // Every directory above the home must be traversable by the guest user, and none writable by it (StrictModes).
  await chmod(boot.dir, 0o755);
  await mkdir(path.join(boot.dir, 'home'), { recursive: true, mode: 0o755 });
  await mkdir(path.join(home, '.ssh'), { recursive: true });
  await ensureHostKey(boot);
  const sshdUid = await hostSshdUid();
  await writeFile(
    path.join(etc, 'passwd'),
    [
      'hostroot:x:0:0:host root:/nonexistent:/usr/sbin/nologin',
      `sshd:x:${sshdUid}:65534::/run/sshd:/usr/sbin/nologin`,
      `${boot.user}:x:${boot.uid}:${boot.uid}:${boot.hostname}:${home}:/bin/sh`,
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(etc, 'group'), ['hostroot:x:0:', `${boot.user}:x:${boot.uid}:`, 'nogroup:x:65534:', ''].join('\n'));
  // '*' (no password, not locked): with UsePAM no, sshd refuses a locked ('!') account even for key logins.
  await writeFile(path.join(etc, 'shadow'), `${boot.user}:*:19000:0:99999:7:::\n`, { mode: 0o640 });
  await writeFile(path.join(home, '.ssh', 'authorized_keys'), boot.authorizedKeys.endsWith('\n') ? boot.authorizedKeys : `${boot.authorizedKeys}\n`);
  await chmod(home, 0o755);
  await chmod(path.join(home, '.ssh'), 0o700);
  await chmod(path.join(home, '.ssh', 'authorized_keys'), 0o600);
  for (const p of [home, path.join(home, '.ssh'), path.join(home, '.ssh', 'authorized_keys')]) await chown(p, boot.uid, boot.uid);
  const config = path.join(boot.dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${boot.port}`,
      `ListenAddress ${boot.address}`,
      `HostKey ${hostKeyPath(boot)}`,
      `PidFile ${path.join(boot.dir, 'sshd.pid')}`,
      'AuthorizedKeysFile .ssh/authorized_keys',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin no',
      `AllowUsers ${boot.user}`,
      'StrictModes yes',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const script =
    'mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/group" /etc/group && mount --bind "$1/shadow" /etc/shadow && ' +
    `exec ${SSHD} -D -e -f "$2"`;
  const child: ChildProcess = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--mount-proc', '/bin/sh', '-c', script, 'guest', etc, config],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: false },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // If the test process exits without stopping its guests, take them down with it.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  void exited.then(() => process.off('exit', onExit));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`sshd of ${boot.hostname} did not start in 20 s:\n${out}`)), 20_000);
    const onData = () => {
      if (out.includes('Server listening on')) done();
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      if (err) reject(err);
      else resolve();
    };
    child.stderr?.on('data', onData);
    void exited.then(() => done(new Error(`sshd of ${boot.hostname} exited on start:\n${out}`)));
  });
  return {
    pid: child.pid!,
    home,
    output: () => out,
    exited,
    async stop() {
      // unshare ignores TERM while it waits; KILL ends it, and --kill-child then kills sshd, PID 1 of the guest's
      // namespace, which takes every process of the guest with it.
      if (child.exitCode === null && child.signalCode === null) {
        // Kill the namespace's init first so unshare reaps it (no zombie left behind); then unshare exits by itself.
        const init = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '');
        const pid = Number(init.trim().split(/\s+/)[0]);
        if (pid > 0) process.kill(pid, 'SIGKILL');
        else child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
