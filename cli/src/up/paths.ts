import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root of the Wharf checkout (where `examples/` lives). */
export const REPO_ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
