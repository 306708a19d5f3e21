export * from './test-database.js';
export * from './processes.js';
