/** What the scheduler announces as it works: the CLI progress display and the UI listen. */
import { EventEmitter } from 'node:events';
import type { RunState, TaskState } from '../store/index.ts';

export interface TaskEvent {
  dagId: string;
  runId: string;
  taskId: string;
  state: TaskState;
  tryNumber: number;
  error?: string;
}

export interface RunEvent {
  dagId: string;
  runId: string;
  state: RunState;
  note?: string;
  /** On 'running': this process took the run over from one that died. */
  adopted?: boolean;
  /** On 'running': the run was being cancelled when this process took it over. */
  cancelling?: boolean;
  /** On 'running': another live process drives this run; this one only follows it. */
  followed?: { ownerPid: number | null; ownerHost: string | null };
}

export interface LogLineEvent {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  level: string;
  source: string;
  message: string;
}

export interface OrchEventMap {
  task: [TaskEvent];
  run: [RunEvent];
  log: [LogLineEvent];
}

export class OrchEvents extends EventEmitter<OrchEventMap> {}
