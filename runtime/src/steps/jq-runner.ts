import { createRequire } from 'node:module';

type JqInstance = { raw(input: string, filter: string, flags?: string[]): Promise<string> };
const require = createRequire(import.meta.url);

/**
 * Runs jq (the real jq 1.7, compiled to WebAssembly by the jq-wasm package; its wasm ships inside the package).
 * The instance is created on first use; after a jq error the instance is replaced, because a failed
 * run leaves its memory unusable.
 */
export function createJqRunner() {
  let instance: Promise<JqInstance> | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const load = () => {
    if (!instance) {
      const factory = require('jq-wasm/dist/build/jq.js') as () => Promise<JqInstance>;
      instance = factory();
    }
    return instance;
  };

  async function runOnce(input: unknown, filter: string): Promise<unknown[]> {
    const jq = await load();
    let text: string;
    try {
      text = await jq.raw(JSON.stringify(input ?? null), filter, ['-c']);
    } catch (err) {
      instance = null;
      const message = String((err as Error).message ?? err).replace(/\s+/g, ' ').trim();
      throw new Error(message.startsWith('jq:') ? message : `jq: ${message}`);
    }
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l));
  }

  return {
    /** A compile error message for `filter`, or null when jq accepts it (run errors on null input are ignored). */
    async check(filter: string): Promise<string | null> {
      try {
        await this.run(null, filter);
        return null;
      } catch (err) {
        const message = (err as Error).message;
        return /compile error|syntax error/.test(message) ? message : null;
      }
    },
    /** Every output of `filter` applied to `input`, in order; runs are serialized. */
    run(input: unknown, filter: string): Promise<unknown[]> {
      const p = queue.then(() => runOnce(input, filter));
      queue = p.catch(() => undefined);
      return p;
    },
  };
}

export type JqRunner = ReturnType<typeof createJqRunner>;
