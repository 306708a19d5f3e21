/** Asks a runtime on the guest for its health and digest on the reserved path, through the SSH connection. */
import { request } from 'node:http';
import { RUNTIME_HEALTH_PATH } from '@wharf/contracts/runtime-protocol';
import type { SshSession } from './ssh-session.js';

export interface Health {
  ok: boolean;
  status: number;
  digest?: string;
  problem?: string;
}

export async function checkHealth(ssh: SshSession, port: number, timeoutMs = 5_000): Promise<Health> {
  let stream;
  try {
    stream = await ssh.forward('127.0.0.1', port);
  } catch (err) {
    return { ok: false, status: 0, problem: (err as Error).message };
  }
  return new Promise<Health>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: RUNTIME_HEALTH_PATH, method: 'GET', createConnection: () => stream, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 64 * 1024) body += d;
      });
      res.on('end', () => {
        let digest: string | undefined;
        try {
          digest = (JSON.parse(body) as { digest?: string }).digest;
        } catch {
          // not JSON: reported below as a bad answer
        }
        resolve({ ok: res.statusCode === 200 && digest !== undefined, status: res.statusCode ?? 0, digest, problem: digest === undefined ? `answer without a digest: ${body.slice(0, 200)}` : undefined });
      });
    });
    // The SSH channel is not a net.Socket (no setTimeout): time out by hand.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) => resolve({ ok: false, status: 0, problem: err.message }));
    req.end();
  });
}
