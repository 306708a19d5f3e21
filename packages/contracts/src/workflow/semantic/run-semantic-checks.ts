/** The semantic checks, in the order their findings are most useful. One list, no discovery. */
import type { Diagnostic } from '../../diagnostic.js';
import type { ConfigDocument } from '../config-document.js';
import { type AppIndex, buildAppIndex } from './app-index.js';
import { checkDependencies, checkDuplicateModules } from './check-modules.js';
import { checkRedefinedPipelines, checkStepNames, checkStepRoutes, checkTemplateStepOrder } from './check-pipelines.js';
import { checkModuleReferences } from './check-references.js';
import { checkDuplicateRoutes } from './check-routes.js';

export const SEMANTIC_CHECKS: readonly ((index: AppIndex) => Diagnostic[])[] = [
  checkDuplicateModules,
  checkDependencies,
  checkModuleReferences,
  checkStepNames,
  checkStepRoutes,
  checkTemplateStepOrder,
  checkDuplicateRoutes,
  checkRedefinedPipelines,
];

export function runSemanticChecks(documents: readonly ConfigDocument[]): Diagnostic[] {
  const index = buildAppIndex(documents);
  return SEMANTIC_CHECKS.flatMap((check) => check(index));
}
