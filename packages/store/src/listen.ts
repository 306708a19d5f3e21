import pg from 'pg';
import type { Logger } from 'pino';

export interface Listener {
  close(): Promise<void>;
}

/**
 * LISTEN on a dedicated connection (slonik has no LISTEN API and resets pooled sessions). Reconnects with
 * backoff when the connection drops; `onReconnect` lets the caller catch up on anything missed meanwhile.
 */
export function listen(
  connectionString: string,
  channels: string[],
  onNotify: (channel: string, payload: string | undefined) => void,
  log: Logger,
  onReconnect?: () => void,
): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let delay = 250;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString, application_name: 'wharf-listen' });
    c.on('notification', (n) => onNotify(n.channel, n.payload));
    c.on('error', (err) => {
      log.warn({ err }, 'listen connection lost');
      schedule();
    });
    try {
      await c.connect();
      for (const ch of channels) await c.query(`LISTEN ${c.escapeIdentifier(ch)}`);
      if (closed) {
        await c.end();
        return;
      }
      const wasReconnect = client !== undefined;
      client = c;
      delay = 250;
      if (wasReconnect) onReconnect?.();
    } catch (err) {
      log.warn({ err }, 'listen connect failed');
      await c.end().catch(() => undefined);
      schedule();
    }
  };
  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, 10_000);
  };
  void connect();
  return {
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
