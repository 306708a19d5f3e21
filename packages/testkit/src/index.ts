export * from './test-database.js';
export * from './processes.js';
export * from './git-http-server.js';
export * from './tiny-runtime.js';
export * from './fake-github/index.js';
export * from './git-pull-refs.js';
