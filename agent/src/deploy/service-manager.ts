/**
 * Runs a long-lived process on the guest as a service. Two implementations behind one interface:
 *   systemd     a unit per service in /etc/systemd/system (real guests: cloud images run systemd; the login user
 *               needs passwordless sudo, as cloud-init's default user has);
 *   supervisor  a small POSIX sh supervisor (restart with backoff, stop on TERM) started with setsid, for guests
 *               without systemd (minimal containers, and the test guests).
 * `detectServiceManager` picks one by looking at the guest.
 */
import type { SshSession } from './ssh-session.js';
import type { ServiceManager } from './service-spec.js';
import { systemdServiceManager } from './systemd-service.js';
import { supervisorServiceManager } from './supervisor-service.js';

export type { ServiceManager, ServiceSpec } from './service-spec.js';
export { SERVICE_LOG } from './service-spec.js';

export const serviceManagers = { systemd: systemdServiceManager, supervisor: supervisorServiceManager } as const;

export async function detectServiceManager(ssh: SshSession): Promise<ServiceManager> {
  const r = await ssh.exec('test -d /run/systemd/system && command -v systemctl >/dev/null');
  return r.code === 0 ? serviceManagers.systemd : serviceManagers.supervisor;
}
