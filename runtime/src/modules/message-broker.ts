import type { Logger } from 'pino';
import type { RuntimeModule } from './module.js';

export type MessageHandler = (message: Record<string, unknown>, topic: string) => Promise<void> | void;

/** In-process publish/subscribe: messages are delivered after the publishing request's step returns. */
export type MessageBroker = RuntimeModule & {
  publish(topic: string, message: Record<string, unknown>): void;
  subscribe(topic: string, handler: MessageHandler): void;
  /** Resolves when every delivered message has been handled (used on shutdown). */
  drain(): Promise<void>;
};

export function isMessageBroker(m: RuntimeModule | undefined): m is MessageBroker {
  return !!m && typeof (m as Partial<MessageBroker>).publish === 'function';
}

export function createMessageBroker(name: string, type: string, maxQueue: number, log: Logger): MessageBroker {
  const subscribers = new Map<string, MessageHandler[]>();
  const inFlight = new Set<Promise<void>>();
  return {
    name,
    type,
    publish(topic, message) {
      for (const handler of subscribers.get(topic) ?? []) {
        if (inFlight.size >= maxQueue) {
          log.warn({ broker: name, topic }, 'message dropped: queue full');
          continue;
        }
        const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => handler(message, topic))
          .catch((err) => log.error({ err, broker: name, topic }, 'message handler failed'))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    },
    subscribe(topic, handler) {
      subscribers.set(topic, [...(subscribers.get(topic) ?? []), handler]);
    },
    async drain() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    close() {
      return this.drain();
    },
  };
}
