/** What a service on a guest is, and what a service manager can do with it (see service-manager.ts). */
import type { SshSession } from './ssh-session.js';

export interface ServiceSpec {
  /** Unique per guest: wharf-<envKey>-<slot>. */
  name: string;
  description: string;
  /** Directory of the service: holds run.sh, its log and (supervisor) its pid file. */
  dir: string;
  /** The directory tree the service may write (systemd ReadWritePaths). */
  writableDir: string;
  /** The login user the service runs as. */
  user: string;
}

export interface ServiceManager {
  kind: 'systemd' | 'supervisor';
  /** (Re)starts the service from `dir/run.sh`, which the caller wrote. */
  restart(ssh: SshSession, spec: ServiceSpec): Promise<void>;
  stop(ssh: SshSession, spec: ServiceSpec): Promise<void>;
  isRunning(ssh: SshSession, spec: ServiceSpec): Promise<boolean>;
}

export const SERVICE_LOG = 'runtime.log' as const;
