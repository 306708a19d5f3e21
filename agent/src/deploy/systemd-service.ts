/** The systemd implementation of ServiceManager: one hardened unit per service, managed with `sudo -n systemctl`. */
import { randomBytes } from 'node:crypto';
import { SERVICE_LOG, type ServiceManager, type ServiceSpec } from './service-spec.js';
import { sq } from './ssh-session.js';

/** The unit file for a service. Paths must be absolute; systemd does not expand $HOME. */
export function renderSystemdUnit(spec: ServiceSpec): string {
  return [
    '[Unit]',
    `Description=${spec.description.replace(/[\r\n]/g, ' ')}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${spec.user}`,
    `WorkingDirectory=${spec.dir}`,
    `ExecStart=/bin/sh ${spec.dir}/run.sh`,
    'Restart=on-failure',
    'RestartSec=2',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=20',
    `StandardOutput=append:${spec.dir}/${SERVICE_LOG}`,
    `StandardError=append:${spec.dir}/${SERVICE_LOG}`,
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    `ReadWritePaths=${spec.writableDir}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const unitPath = (spec: ServiceSpec) => `/etc/systemd/system/${spec.name}.service`;

export const systemdServiceManager: ServiceManager = {
  kind: 'systemd',
  async restart(ssh, spec) {
    const tmp = `${spec.dir}/.unit-${randomBytes(4).toString('hex')}`;
    await ssh.run(`cat > ${sq(tmp)}`, `writing the unit of ${spec.name}`, { stdin: renderSystemdUnit(spec) });
    await ssh.run(
      `sudo -n install -m 0644 ${sq(tmp)} ${sq(unitPath(spec))} && rm -f ${sq(tmp)} && sudo -n systemctl daemon-reload && sudo -n systemctl enable ${sq(spec.name)} && sudo -n systemctl restart ${sq(spec.name)}`,
      `starting ${spec.name} with systemd`,
    );
  },
  async stop(ssh, spec) {
    await ssh.run(`sudo -n systemctl disable --now ${sq(spec.name)} || true`, `stopping ${spec.name}`);
  },
  async isRunning(ssh, spec) {
    return (await ssh.exec(`systemctl is-active --quiet ${sq(spec.name)}`)).code === 0;
  },
};
