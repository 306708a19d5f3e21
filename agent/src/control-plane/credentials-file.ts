/**
 * The agent's identity and credential, in `<stateDir>/credentials.json` (mode 0600), written by `wharf agent register`
 * and replaced atomically by `wharf agent rotate`. Kept apart from agent.yaml, so the config holds no Wharf secret
 * once registration removed the bootstrap token.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

export interface AgentCredentials {
  agentId: number;
  name: string;
  pool: string;
  controlPlaneUrl: string;
  credential: string;
  registeredAt: string;
  rotatedAt?: string;
}

export const credentialsFile = (stateDir: string) => path.join(stateDir, 'credentials.json');

export async function readCredentials(stateDir: string): Promise<AgentCredentials | undefined> {
  try {
    return JSON.parse(await readFile(credentialsFile(stateDir), 'utf8')) as AgentCredentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeCredentials(stateDir: string, creds: AgentCredentials): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = credentialsFile(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(creds, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
