import type { ModuleSpec } from '../config/app-config.js';
import { OutboundRefusedError } from '../confine/outbound-policy.js';
import type { MessageHandlerModule } from './messaging-handler.js';
import { type ModuleDeps, whereInModule } from './module.js';

const SEND_TIMEOUT_MS = 10_000;

/**
 * notification.slack: the engine's SlackNotification, a message handler that posts each message it receives to a
 * Slack incoming webhook as `{channel, username, text}` (`text` is the message as JSON). The webhook's host must be
 * allowed (--allow-host): the check is made for each message, as the engine only reads the URL when it sends, and a
 * refused or failed send is logged, never retried. A start with a webhook nobody allowed logs a warning.
 */
export function createSlackNotification(spec: ModuleSpec, deps: ModuleDeps): MessageHandlerModule {
  const c = spec.config;
  const webhookURL = typeof c.webhookURL === 'string' ? c.webhookURL : '';
  const channel = typeof c.channel === 'string' ? c.channel : '';
  const username = typeof c.username === 'string' && c.username ? c.username : 'workflow-bot';
  const where = whereInModule(spec, 'webhookURL');
  const log = deps.log.child({ module: spec.name });
  try {
    if (webhookURL) deps.outbound.checkUrl(webhookURL, where);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'slack notifications will not be sent');
  }
  return {
    name: spec.name,
    type: spec.type,
    handleMessage(message, topic) {
      void (async () => {
        if (!webhookURL) throw new Error('slack webhook URL not configured');
        const url = deps.outbound.checkUrl(webhookURL, where);
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ channel, username, text: JSON.stringify(message) }),
          redirect: 'manual',
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
        await res.body?.cancel();
        if (res.status < 200 || res.status >= 300) throw new Error(`slack webhook returned status ${res.status}`);
        log.info({ channel, topic }, 'Slack notification sent');
      })().catch((err: unknown) => {
        log.error({ err: err instanceof OutboundRefusedError ? err.message : err, topic }, 'slack notification failed');
      });
    },
  };
}
