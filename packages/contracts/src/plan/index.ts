export * from './config-diff.js';
export * from './plan.js';
export * from './render-plan.js';
