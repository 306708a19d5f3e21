export * from './server.js';
export * from './settings.js';
export * from './github/index.js';
