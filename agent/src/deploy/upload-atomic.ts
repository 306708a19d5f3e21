/**
 * Uploads a set of files to a directory on the guest so that the directory appears whole or not at all: files go to
 * a temporary sibling (`.tmp-<random>`) over SFTP, then one `mv -T` renames it into place. A directory that already
 * exists is complete by construction (releases are named by their content) and is left as it is.
 */
import { randomBytes } from 'node:crypto';
import type { SFTPWrapper } from 'ssh2';
import { sq, type SshSession } from './ssh-session.js';

export interface UploadFile {
  /** Path inside the target directory (no '..', no leading '/'). */
  path: string;
  content: Buffer | string;
  mode?: number;
}

function write(sftp: SFTPWrapper, remote: string, content: Buffer, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = sftp.createWriteStream(remote, { mode });
    stream.on('error', reject);
    stream.on('close', () => resolve());
    stream.end(content);
  });
}

export function assertSafeRelative(p: string): void {
  if (p === '' || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '' || s === '.')) {
    throw new Error(`unsafe path in upload: ${JSON.stringify(p)}`);
  }
}

/** Returns true when it uploaded, false when `dir` already existed. */
export async function uploadDirectoryAtomically(ssh: SshSession, dir: string, files: readonly UploadFile[]): Promise<boolean> {
  for (const f of files) assertSafeRelative(f.path);
  const exists = await ssh.exec(`test -d ${sq(dir)}`);
  if (exists.code === 0) return false;
  const tmp = `${dir.replace(/\/+$/, '')}.tmp-${randomBytes(6).toString('hex')}`;
  const subdirs = [...new Set(files.map((f) => f.path.split('/').slice(0, -1).join('/')).filter(Boolean))];
  await ssh.run(`mkdir -p ${[tmp, ...subdirs.map((d) => `${tmp}/${d}`)].map(sq).join(' ')}`, 'creating the upload directory');
  const sftp = await ssh.sftp();
  try {
    for (const f of files) await write(sftp, `${tmp}/${f.path}`, Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content), f.mode ?? 0o644);
  } finally {
    sftp.end();
  }
  // Another deploy of the same release may have won: then ours is redundant.
  await ssh.run(`mv -T ${sq(tmp)} ${sq(dir)} 2>/dev/null || { test -d ${sq(dir)} && rm -rf ${sq(tmp)}; }`, 'moving the upload into place');
  return true;
}

/** Writes one small file atomically (temp file + rename in the same directory). */
export async function writeFileAtomically(ssh: SshSession, path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await ssh.run(`umask 077; cat > ${sq(tmp)} && chmod ${mode.toString(8)} ${sq(tmp)} && mv -f ${sq(tmp)} ${sq(path)}`, `writing ${path}`, { stdin: content });
}
