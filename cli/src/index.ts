export * from './main.js';
export * from './control-plane.js';
export * from './settings.js';
