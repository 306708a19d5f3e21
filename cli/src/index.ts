/** @wharf/cli: the `wharf` command. */
export { main, usage } from './main.js';
export { startControlPlane, type ControlPlane, type ControlPlaneDeps } from './control-plane.js';
export { upSettings, upOnlySettings } from './settings.js';
