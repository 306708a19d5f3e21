/** PVE worker tasks: UPIDs, running → stopped with an exit status, as /nodes/{node}/tasks/{upid}/status reports them. */
import { randomInt } from 'node:crypto';

export interface FakeTask {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  /** 'OK', or the error the worker died with (PVE's "TASK ERROR" text without the prefix). */
  exitstatus?: string;
  log: string[];
  /** Status polls still answered with 'running' even once the work is done, so clients must poll. */
  pollsLeft: number;
  done: Promise<void>;
}

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

/** UPID:node:pid:pstart:starttime:type:id:user: (pve-common PVE::Tools::upid_encode). */
export function encodeUpid(t: Pick<FakeTask, 'node' | 'pid' | 'pstart' | 'starttime' | 'type' | 'id' | 'user'>): string {
  return `UPID:${t.node}:${hex(t.pid, 8)}:${hex(t.pstart, 8)}:${hex(t.starttime, 8)}:${t.type}:${t.id}:${t.user}:`;
}

export class TaskRegistry {
  readonly tasks = new Map<string, FakeTask>();
  private clock = Math.floor(Date.now() / 1000);

  constructor(private readonly pollsWhileRunning: number) {}

  start(node: string, type: string, id: string, user: string, work: (log: (line: string) => void) => Promise<void>): FakeTask {
    this.clock += 1; // distinct start times keep UPIDs unique and ordered
    const base = { node, pid: randomInt(1000, 4_000_000), pstart: randomInt(1, 0xfffffff), starttime: this.clock, type, id, user };
    const task: FakeTask = { ...base, upid: encodeUpid(base), status: 'running', log: [], pollsLeft: this.pollsWhileRunning, done: Promise.resolve() };
    const log = (line: string) => task.log.push(line);
    task.done = (async () => {
      try {
        await work(log);
        task.exitstatus = 'OK';
        log('TASK OK');
      } catch (err) {
        task.exitstatus = (err as Error).message;
        log(`TASK ERROR: ${task.exitstatus}`);
      }
    })();
    this.tasks.set(task.upid, task);
    return task;
  }

  /** The status PVE reports; finishing a task is observed only after its work settled and its polls ran out. */
  status(task: FakeTask): Record<string, unknown> {
    const finished = task.exitstatus !== undefined && task.pollsLeft === 0;
    if (task.pollsLeft > 0) task.pollsLeft -= 1;
    return {
      upid: task.upid,
      node: task.node,
      pid: task.pid,
      pstart: task.pstart,
      starttime: task.starttime,
      type: task.type,
      id: task.id,
      user: task.user.split('!')[0],
      ...(task.user.includes('!') ? { tokenid: task.user.split('!')[1] } : {}),
      status: finished ? 'stopped' : 'running',
      ...(finished ? { exitstatus: task.exitstatus } : {}),
    };
  }

  /** Waits for every task's work (used when the fake closes). */
  async settle(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((t) => t.done));
  }
}
