/**
 * Every diagnostic code Wharf emits, with its default severity and a one-line title.
 * docs/diagnostics.md documents each one (a test keeps the two in step).
 */
import type { Severity } from './diagnostic.js';

export const CODES = {
  YamlSyntax: 'WHARF100',
  FileTooLarge: 'WHARF101',
  TooDeep: 'WHARF102',
  AliasExpansion: 'WHARF103',
  TooManyFiles: 'WHARF104',
  NotAMapping: 'WHARF105',
  DuplicateKey: 'WHARF106',
  EmptyDocument: 'WHARF107',
  ExtraDocument: 'WHARF108',
  MoreProblems: 'WHARF109',
  WrongType: 'WHARF110',
  MissingRequired: 'WHARF111',
  NotAnOption: 'WHARF112',
  UnknownKey: 'WHARF113',
  InvalidValue: 'WHARF114',
  UnknownModuleType: 'WHARF120',
  DuplicateModule: 'WHARF130',
  MissingDependency: 'WHARF131',
  DependencyCycle: 'WHARF132',
  DuplicateStep: 'WHARF133',
  MissingModuleReference: 'WHARF134',
  DuplicateRoute: 'WHARF135',
  TemplateStepOrder: 'WHARF136',
  RedefinedAcrossFiles: 'WHARF137',
  MissingStepReference: 'WHARF138',
  DuplicateApp: 'WHARF140',
  DuplicateEnvVar: 'WHARF141',
  NoAppFiles: 'WHARF142',
  NoManifest: 'WHARF143',
  UnreadableFile: 'WHARF150',
} as const;

export type CodeName = keyof typeof CODES;
export type Code = (typeof CODES)[CodeName];

export const CODE_SEVERITY: Record<Code, Severity> = {
  WHARF100: 'error',
  WHARF101: 'error',
  WHARF102: 'error',
  WHARF103: 'error',
  WHARF104: 'error',
  WHARF105: 'error',
  WHARF106: 'error',
  WHARF107: 'warning',
  WHARF108: 'warning',
  WHARF109: 'info',
  WHARF110: 'error',
  WHARF111: 'error',
  WHARF112: 'error',
  WHARF113: 'warning',
  WHARF114: 'error',
  WHARF120: 'warning',
  WHARF130: 'error',
  WHARF131: 'error',
  WHARF132: 'error',
  WHARF133: 'error',
  WHARF134: 'error',
  WHARF135: 'error',
  WHARF136: 'warning',
  WHARF137: 'warning',
  WHARF138: 'error',
  WHARF140: 'error',
  WHARF141: 'error',
  WHARF142: 'error',
  WHARF143: 'error',
  WHARF150: 'error',
};
