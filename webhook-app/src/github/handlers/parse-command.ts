/** `/wharf <command>` in a comment. Pure. */
export type Command =
  | { name: 'preview' }
  | { name: 'redeploy' }
  | { name: 'rollback'; sha: string }
  | { name: 'help' }
  | { name: 'invalid'; message: string };

export function parseCommand(body: string): Command | null {
  const line = body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => /^\/wharf(\s|$)/i.test(l));
  if (!line) return null;
  const [, name = 'help', arg, ...rest] = line.split(/\s+/);
  switch (name.toLowerCase()) {
    case 'preview':
    case 'redeploy':
      return rest.length || arg ? { name: 'invalid', message: `\`/wharf ${name}\` takes no arguments.` } : { name: name.toLowerCase() as 'preview' | 'redeploy' };
    case 'rollback':
      if (!arg || !/^[0-9a-f]{7,40}$/i.test(arg)) return { name: 'invalid', message: '`/wharf rollback <sha>` needs a commit sha (7 to 40 hex characters).' };
      return { name: 'rollback', sha: arg.toLowerCase() };
    case 'help':
      return { name: 'help' };
    default:
      return { name: 'invalid', message: `Unknown command \`${name}\`.` };
  }
}

export const HELP = [
  'Wharf commands (write access needed, except help):',
  '',
  '| Command | What it does |',
  '| --- | --- |',
  '| `/wharf preview` | Deploy this pull request to a preview. On a fork, this approves the current head commit (no secrets). |',
  '| `/wharf redeploy` | Deploy the preview again at the same version. |',
  '| `/wharf rollback <sha>` | Open a pull request that restores the repository to `<sha>`; merging it rolls production back. |',
  '| `/wharf help` | This list. |',
].join('\n');
