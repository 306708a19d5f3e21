import type { Logger } from 'pino';
import { MESSAGE_TRIGGERS } from '../config/check-support.js';
import { answerForError } from '../http/answer-error.js';
import { isMessageBroker } from '../modules/message-broker.js';
import type { ModuleSet } from '../modules/module.js';
import type { Pipeline } from './build-pipeline.js';

/** Subscribes each messaging-triggered pipeline to its topic; returns the problems found. */
export function subscribeMessagePipelines(pipelines: readonly Pipeline[], modules: ModuleSet, log: Logger): string[] {
  const problems: string[] = [];
  for (const p of pipelines) {
    const t = p.spec.trigger;
    if (!t || !(MESSAGE_TRIGGERS as readonly string[]).includes(t.type)) continue;
    const topic = t.config.topic ?? t.config.subject;
    const brokerName = typeof t.config.broker === 'string' ? t.config.broker : undefined;
    const broker = brokerName ? modules.get(brokerName) : modules.ofType('messaging.broker')[0];
    if (typeof topic !== 'string' || !isMessageBroker(broker)) {
      problems.push(`pipeline ${p.name}: ${t.type} trigger needs config.topic and a messaging.broker module`);
      continue;
    }
    broker.subscribe(topic, async (message) => {
      const meta = { pipeline: p.name, started_at: new Date().toISOString(), topic };
      try {
        await p.run({ ...message, body: message }, meta, { pipeline: p.name, log, headers: {} });
      } catch (err) {
        answerForError(err, log.child({ pipeline: p.name, topic }));
      }
    });
  }
  return problems;
}
