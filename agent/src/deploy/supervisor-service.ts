/**
 * The supervisor implementation of ServiceManager, for guests without systemd: `supervise.sh` runs `run.sh`,
 * appends its output to the service log, restarts it with backoff (1 s doubling to 30 s) when it exits, and on TERM
 * stops it and exits. Started detached (setsid) so it outlives the SSH session.
 */
import { SERVICE_LOG, type ServiceManager, type ServiceSpec } from './service-spec.js';
import { sq } from './ssh-session.js';

export const SUPERVISE_SH = `#!/bin/sh
# wharf supervise: runs "$1/run.sh", restarts it when it exits, stops it on TERM.
dir=$1
log="$dir/${SERVICE_LOG}"
child=
stop() {
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
  rm -f "$dir/supervise.pid"
  exit 0
}
trap stop TERM INT HUP
echo $$ > "$dir/supervise.pid"
delay=1
while :; do
  started=$(date +%s)
  sh "$dir/run.sh" >>"$log" 2>&1 </dev/null &
  child=$!
  wait "$child"
  code=$?
  child=
  echo "wharf supervise: exited with status $code, restarting in $delay s" >>"$log"
  [ $(( $(date +%s) - started )) -gt 60 ] && delay=1
  sleep "$delay" &
  wait $!
  [ "$delay" -lt 30 ] && delay=$((delay * 2))
done
`;

const pidFile = (spec: ServiceSpec) => `${spec.dir}/supervise.pid`;

async function stop(ssh: Parameters<ServiceManager['stop']>[0], spec: ServiceSpec): Promise<void> {
  const pid = sq(pidFile(spec));
  // TERM, then wait up to 20 s for the supervisor to stop its child and remove its pid file; KILL as a last resort.
  await ssh.run(
    `if [ -f ${pid} ]; then p=$(cat ${pid}); kill -TERM "$p" 2>/dev/null; i=0; while [ -f ${pid} ] && kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; kill -0 "$p" 2>/dev/null && kill -KILL "$p"; rm -f ${pid}; fi; true`,
    `stopping ${spec.name}`,
  );
}

export const supervisorServiceManager: ServiceManager = {
  kind: 'supervisor',
  async restart(ssh, spec) {
    await stop(ssh, spec);
    await ssh.run(`cat > ${sq(`${spec.dir}/supervise.sh`)}`, `writing the supervisor of ${spec.name}`, { stdin: SUPERVISE_SH });
    await ssh.run(`cd ${sq(spec.dir)} && setsid sh ./supervise.sh ${sq(spec.dir)} </dev/null >/dev/null 2>&1 &`, `starting ${spec.name}`);
  },
  stop,
  async isRunning(ssh, spec) {
    const pid = sq(pidFile(spec));
    return (await ssh.exec(`test -f ${pid} && kill -0 "$(cat ${pid})" 2>/dev/null`)).code === 0;
  },
};
