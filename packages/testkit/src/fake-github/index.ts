export * from './fake-github.js';
export * from './openapi-index.js';
export * from './state.js';
export * from './webhooks.js';
