import { isMessageBroker } from '../modules/message-broker.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { optionalString, requireString } from './config-values.js';
import type { StepFactory } from './step.js';

/** step.publish: publishes the rendered payload (default: the current context) to a topic on a messaging.broker. */
export const publishMessage: StepFactory = (spec, deps) => {
  const where = `step ${spec.name} (step.publish)`;
  const topic = deps.templates.compile(requireString(spec.config, ['topic'], where));
  const brokerName = optionalString(spec.config, 'broker', 'module');
  const broker = brokerName ? deps.modules.get(brokerName) : deps.modules.ofType('messaging.broker')[0];
  if (!isMessageBroker(broker)) throw new Error(`${where}: needs a messaging.broker module${brokerName ? ` named ${brokerName}` : ''}`);
  const payload = spec.config.payload ?? spec.config.data;
  return {
    name: spec.name,
    type: spec.type,
    run(ctx, scope) {
      const t = deps.templates.render(topic, ctx.data());
      const message = (payload === undefined ? { ...ctx.current } : deps.templates.renderValue(payload, ctx.data())) as Json;
      broker.publish(t, message, (scope.messageDepth ?? 0) + 1);
      return { output: { published: true, topic: t } };
    },
  };
};
