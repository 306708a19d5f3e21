import { authRequired } from './auth-required.js';
import { conditionalRoute } from './conditional-route.js';
import { dbExec } from './db-exec.js';
import { delegateRequest } from './delegate-request.js';
import { foreachItems } from './foreach-items.js';
import { dbQuery } from './db-query.js';
import { featureFlag, flagGate } from './feature-flag.js';
import { httpCall } from './http-call.js';
import { jqTransform } from './jq-transform.js';
import { jsonResponse } from './json-response.js';
import { logMessage } from './log-message.js';
import { parallelBranches } from './parallel-branches.js';
import { publishMessage } from './publish-message.js';
import { requestParse } from './request-parse.js';
import { setValues } from './set-values.js';
import type { StepFactory } from './step.js';
import { validateInput } from './validate-input.js';

/** Every step type the runtime runs; any other type makes it refuse to start. */
export const STEP_TYPES = {
  'step.request_parse': requestParse,
  'step.set': setValues,
  'step.validate': validateInput,
  'step.conditional': conditionalRoute,
  'step.db_query': dbQuery,
  'step.db_exec': dbExec,
  'step.json_response': jsonResponse,
  'step.jq': jqTransform,
  'step.log': logMessage,
  'step.publish': publishMessage,
  'step.auth_required': authRequired,
  'step.http_call': httpCall,
  'step.foreach': foreachItems,
  'step.parallel': parallelBranches,
  'step.delegate': delegateRequest,
  'step.feature_flag': featureFlag,
  'step.ff_gate': flagGate,
} as const satisfies Record<string, StepFactory>;

export function isStepType(type: string): type is keyof typeof STEP_TYPES {
  return Object.hasOwn(STEP_TYPES, type);
}
