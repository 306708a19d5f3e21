export * from './endpoint-types.js';
