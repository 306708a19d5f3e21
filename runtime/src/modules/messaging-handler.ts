import type { ModuleSpec } from '../config/app-config.js';
import type { ModuleDeps, RuntimeModule } from './module.js';

/** A module that takes messages from `workflows.messaging` subscriptions and `workflows.scheduler` jobs. */
export type MessageHandlerModule = RuntimeModule & { handleMessage(message: unknown, topic: string): void };

export function isMessageHandler(m: RuntimeModule | undefined): m is MessageHandlerModule {
  return !!m && typeof (m as Partial<MessageHandlerModule>).handleMessage === 'function';
}

/**
 * messaging.handler: the engine's SimpleMessageHandler. Without custom code it logs each message it receives
 * ("Message received", with the handler and the message); the engine reads `producers:` but does not wire them.
 */
export function createMessagingHandler(spec: ModuleSpec, deps: ModuleDeps): MessageHandlerModule {
  const log = deps.log.child({ handler: spec.name });
  return {
    name: spec.name,
    type: spec.type,
    handleMessage(message, topic) {
      log.info({ topic, message }, 'Message received');
    },
  };
}
