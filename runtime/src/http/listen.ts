import type { Server } from 'node:http';
import type { Logger } from 'pino';

export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

/**
 * Stops accepting; idle keep-alive connections close now, busy ones after their answer (which carries
 * `connection: close`); whatever is still open at the deadline is cut.
 */
export async function closeGracefully(server: Server, deadlineMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ deadlineMs }, 'shutdown deadline reached, closing open connections');
      server.closeAllConnections();
      resolve();
    }, deadlineMs);
  });
  await Promise.race([closed, forced]);
  clearTimeout(timer);
  clearInterval(sweeper);
}
