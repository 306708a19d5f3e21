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
  NotAnAppConfig: 'WHARF151',
  PathOutsideEnvironment: 'WHARF160',
  SqlReachesOutside: 'WHARF161',
  OutboundHost: 'WHARF162',
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
  WHARF133: 'warning',
  WHARF134: 'error',
  WHARF135: 'warning',
  WHARF136: 'warning',
  WHARF137: 'warning',
  WHARF138: 'error',
  WHARF140: 'error',
  WHARF141: 'error',
  WHARF142: 'error',
  WHARF143: 'error',
  WHARF150: 'error',
  WHARF151: 'info',
  WHARF160: 'error',
  WHARF161: 'error',
  WHARF162: 'warning',
};

/**
 * What the Workflow engine itself does with a config that has the finding (at the code's default
 * severity), as read from its source: refuses to load it, loads it but fails when the part runs,
 * accepts it, or the rule is Wharf's own (limits, the manifest, hosted safety). docs/diagnostics.md
 * says the same for each code (a test keeps the two in step).
 */
export const ENGINE_VERDICTS = ['refuses', 'fails at run time', 'accepts', 'wharf'] as const;
export type EngineVerdict = (typeof ENGINE_VERDICTS)[number];

export const CODE_ENGINE_VERDICT: Record<Code, EngineVerdict> = {
  WHARF100: 'refuses',
  WHARF101: 'wharf',
  WHARF102: 'wharf',
  WHARF103: 'wharf',
  WHARF104: 'wharf',
  WHARF105: 'refuses',
  WHARF106: 'refuses',
  WHARF107: 'accepts',
  WHARF108: 'accepts',
  WHARF109: 'wharf',
  WHARF110: 'refuses',
  WHARF111: 'refuses',
  WHARF112: 'refuses',
  WHARF113: 'accepts',
  WHARF114: 'refuses',
  WHARF120: 'refuses',
  WHARF130: 'refuses',
  WHARF131: 'refuses',
  WHARF132: 'refuses',
  WHARF133: 'accepts',
  WHARF134: 'refuses',
  WHARF135: 'accepts',
  WHARF136: 'accepts',
  WHARF137: 'accepts',
  WHARF138: 'fails at run time',
  WHARF140: 'wharf',
  WHARF141: 'wharf',
  WHARF142: 'wharf',
  WHARF143: 'wharf',
  WHARF150: 'wharf',
  WHARF151: 'wharf',
  WHARF160: 'wharf',
  WHARF161: 'wharf',
  WHARF162: 'wharf',
};
