/**
 * One SSH connection to a guest (ssh2), with its host key pinned: the first connection after provisioning records
 * the key (trust on first use, right after the agent created the guest), every later one must present the same key
 * or is refused with HostKeyChanged before anything is sent.
 */
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import ssh2, { type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { AgentError } from '../errors.js';

const { Client } = ssh2;

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** OpenSSH or PEM private key. */
  privateKey: string | Buffer;
  /** The guest's host key as an OpenSSH public key line (`ssh-ed25519 AAAA…`); absent on first contact. */
  pinnedHostKey?: string;
  readyTimeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SshSession {
  /** The host key the guest presented, as an OpenSSH public key line. */
  hostKey: string;
  exec(command: string, options?: { stdin?: string | Buffer; maxOutput?: number }): Promise<ExecResult>;
  /** exec that throws DeployFailed on a non-zero exit, with the command's stderr. */
  run(command: string, what: string, options?: { stdin?: string | Buffer }): Promise<string>;
  sftp(): Promise<SFTPWrapper>;
  /** A TCP stream to HOST:PORT as seen from the guest (direct-tcpip). */
  forward(host: string, port: number): Promise<Duplex>;
  close(): void;
}

/** OpenSSH's fingerprint of a key blob: SHA256:<base64 without padding>. */
export function hostKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function keyLine(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return `${blob.subarray(4, 4 + len).toString('latin1')} ${blob.toString('base64')}`;
}

function blobOf(line: string): Buffer {
  const b64 = line.trim().split(/\s+/)[1];
  if (!b64) throw new AgentError('InvalidRequest', `pinned host key is not an OpenSSH public key line: ${line.slice(0, 40)}`);
  return Buffer.from(b64, 'base64');
}

/** Single-quotes a string for a POSIX shell. */
export const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function openSsh(target: SshTarget): Promise<SshSession> {
  const pinned = target.pinnedHostKey ? blobOf(target.pinnedHostKey) : undefined;
  let presented: Buffer | undefined;
  const client = new Client();
  const where = `${target.username}@${target.host}:${target.port}`;
  await new Promise<void>((resolve, reject) => {
    client
      .on('ready', () => resolve())
      .on('error', (err: Error) => {
        if (pinned && presented && !presented.equals(pinned)) {
          reject(
            new AgentError(
              'HostKeyChanged',
              `the SSH host key of ${target.host}:${target.port} changed: pinned ${hostKeyFingerprint(pinned)}, presented ${hostKeyFingerprint(presented)}. Refusing to connect (a rebuilt guest, or someone in the middle). If the guest was rebuilt on purpose, drop its pin from the agent state and redeploy.`,
              { details: { pinned: hostKeyFingerprint(pinned), presented: hostKeyFingerprint(presented) } },
            ),
          );
          return;
        }
        reject(new AgentError('SshFailed', `SSH to ${where} failed: ${err.message}`, { cause: err }));
      })
      .connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: target.readyTimeoutMs ?? 20_000,
        hostVerifier: (key: Buffer) => {
          presented = Buffer.from(key);
          return pinned ? presented.equals(pinned) : true;
        },
      } satisfies ConnectConfig);
  });
  const hostKey = keyLine(presented!);

  const exec: SshSession['exec'] = (command, options = {}) =>
    new Promise((resolve, reject) => {
      client.exec(command, (err: Error | undefined, stream: ClientChannel) => {
        if (err) return reject(new AgentError('SshFailed', `SSH exec on ${where} failed: ${err.message}`, { cause: err }));
        const max = options.maxOutput ?? 4 * 1024 * 1024;
        let stdout = '';
        let stderr = '';
        stream.on('data', (d: Buffer) => {
          if (stdout.length < max) stdout += d.toString('utf8');
        });
        stream.stderr.on('data', (d: Buffer) => {
          if (stderr.length < max) stderr += d.toString('utf8');
        });
        stream.on('close', (code: number | null) => resolve({ code: code ?? -1, stdout, stderr }));
        stream.end(options.stdin ?? '');
      });
    });

  return {
    hostKey,
    exec,
    async run(command, what, options) {
      const r = await exec(command, options);
      if (r.code !== 0) throw new AgentError('DeployFailed', `${what} on ${target.host} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
      return r.stdout;
    },
    sftp: () =>
      new Promise((resolve, reject) =>
        client.sftp((err: Error | undefined, sftp: SFTPWrapper) => (err ? reject(new AgentError('SshFailed', `SFTP on ${where} failed: ${err.message}`)) : resolve(sftp))),
      ),
    forward: (host, port) =>
      new Promise((resolve, reject) =>
        client.forwardOut('127.0.0.1', 0, host, port, (err: Error | undefined, stream: ClientChannel) =>
          err ? reject(new AgentError('SshFailed', `cannot reach ${host}:${port} inside ${target.host}: ${err.message}`)) : resolve(stream),
        ),
      ),
    close: () => client.end(),
  };
}
