import type { Logger } from 'pino';
import type { RuntimeModule } from './module.js';

/** `depth`: how many messages led to this one (a pipeline run by a message that publishes passes depth + 1). */
export type MessageHandler = (message: Record<string, unknown>, topic: string, depth: number) => Promise<void> | void;

/**
 * Messages that lead to messages stop here: a pipeline that publishes to the topic it is triggered by (directly or
 * round a cycle) would otherwise run for ever.
 */
export const MAX_MESSAGE_DEPTH = 32;

/** In-process publish/subscribe: messages are delivered after the publishing request's step returns. */
export type MessageBroker = RuntimeModule & {
  publish(topic: string, message: Record<string, unknown>, depth?: number): void;
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
    publish(topic, message, depth = 0) {
      if (depth > MAX_MESSAGE_DEPTH) {
        log.warn({ broker: name, topic, depth }, 'message dropped: it was published by a chain of more than 32 messages (a cycle?)');
        return;
      }
      for (const handler of subscribers.get(topic) ?? []) {
        if (inFlight.size >= maxQueue) {
          log.warn({ broker: name, topic }, 'message dropped: queue full');
          continue;
        }
        const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => handler(message, topic, depth))
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
