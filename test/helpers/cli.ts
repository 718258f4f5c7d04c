/**
 * The `orch` CLI as a user runs it: child processes (`node bin/orch.js …`, never a shell)
 * pointed at a workspace through ORCH_HOME and ORCH_DAGS_FOLDER, and a read-only view of
 * the SQLite file they write, for waiting on states.
 */
import Database from 'better-sqlite3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, type Workspace } from './dags.ts';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment every orch child gets: this workspace, nothing inherited from the caller's orch setup. */
export function orchEnv(ws: Workspace, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORCH_') && k !== 'CI' && k !== 'FORCE_COLOR') env[k] = v;
  return { ...env, ORCH_HOME: ws.home, ORCH_DAGS_FOLDER: ws.dags, ...extra };
}

/**
 * How long a test waits for a process or a state before calling it a hang. Generous on
 * purpose: on a busy 2-core machine starting one orch process can take tens of seconds, and
 * a test must wait for the condition, however slow, not for the clock.
 */
export const PATIENCE_MS = 120_000;

/** Run `orch <args>` to its end (at most `timeoutMs`) in the workspace root. */
export function orch(ws: Workspace, args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? PATIENCE_MS;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ws.root, env: orchEnv(ws, options.env), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals }) | null;
        if (e && e.killed) return reject(new Error(`orch ${args.join(' ')} did not finish within ${timeoutMs / 1000} s\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        if (e && typeof e.code !== 'number' && !e.signal) return reject(e);
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

/** Run `orch <args>` and fail with its output unless it exits with `code`. */
export async function orchOk(ws: Workspace, args: string[], code = 0): Promise<CliResult> {
  const r = await orch(ws, args);
  if (r.code !== code) throw new Error(`orch ${args.join(' ')} exited ${r.code} (expected ${code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/** A long-running orch child (`orch scheduler`, `orch run …`, `orch logs --follow`). */
export interface OrchProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited (and been reaped). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Wait until stdout or stderr matches `pattern`. */
  waitForOutput(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
  /** Wait for the exit, failing after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL it if it is still running (for afterEach). */
  kill(): Promise<void>;
}

const live = new Set<OrchProcess>();

/** Start `orch <args>` in the background. */
export function spawnOrch(ws: Workspace, args: string[], env: Record<string, string> = {}): OrchProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ws.root, env: orchEnv(ws, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const proc: OrchProcess = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    async waitForOutput(pattern, what, timeoutMs = PATIENCE_MS) {
      await waitFor(what, () => pattern.test(stdout) || pattern.test(stderr) || (done ? 'exited' : false), timeoutMs, () => `stdout:\n${stdout}\nstderr:\n${stderr}`);
      if (!pattern.test(stdout) && !pattern.test(stderr)) throw new Error(`orch ${args.join(' ')} exited before ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    },
    async waitForExit(timeoutMs = PATIENCE_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`orch ${args.join(' ')} did not exit within ${timeoutMs / 1000} s\nstdout:\n${stdout}\nstderr:\n${stderr}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
      live.delete(proc);
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** SIGKILL every orch child a test left running (call from afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

/**
 * Poll `check` every 50 ms until it returns something truthy, and return that; fail after
 * `timeoutMs` with a message naming `what` (and `detail()`, if given). A check that returns
 * the string 'exited' stops the wait early.
 */
export async function waitFor<T>(what: string, check: () => T | false | undefined | null, timeoutMs = PATIENCE_MS, detail?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Read-only queries on the workspace's orch.db, as another process sees it. */
export class DbView {
  private db: Database.Database | undefined;
  constructor(private readonly file: string) {}

  private open(): Database.Database | undefined {
    if (!this.db && existsSync(this.file)) {
      try {
        this.db = new Database(this.file, { readonly: true, fileMustExist: true });
        this.db.pragma('busy_timeout = 5000');
      } catch {
        return undefined; // Not created (or not migrated) yet.
      }
    }
    return this.db;
  }

  private all<T>(sql: string, ...args: unknown[]): T[] {
    const db = this.open();
    if (!db) return [];
    try {
      return db.prepare(sql).all(...args) as T[];
    } catch (err) {
      if (/no such table/.test((err as Error).message)) return [];
      throw err;
    }
  }

  /** Runs of a DAG, oldest first. */
  runs(dagId: string): { runId: string; state: string; ownerPid: number | null }[] {
    return this.all(`SELECT run_id AS runId, state, owner_pid AS ownerPid FROM dag_run WHERE dag_id = ? ORDER BY queued_at`, dagId);
  }

  /** taskId → { state, tryNumber } for one run (the newest of the DAG when runId is omitted). */
  tasks(dagId: string, runId?: string): Record<string, { state: string; tryNumber: number }> {
    const id = runId ?? this.runs(dagId).at(-1)?.runId;
    if (!id) return {};
    const rows = this.all<{ taskId: string; state: string; tryNumber: number }>(
      `SELECT task_id AS taskId, state, try_number AS tryNumber FROM task_instance WHERE dag_id = ? AND run_id = ?`,
      dagId,
      id,
    );
    return Object.fromEntries(rows.map((r) => [r.taskId, { state: r.state, tryNumber: r.tryNumber }]));
  }

  /** Log lines of one try. */
  logs(dagId: string, runId: string, taskId: string, tryNumber: number): string[] {
    return this.all<{ message: string }>(
      `SELECT message FROM task_log WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ? ORDER BY id`,
      dagId,
      runId,
      taskId,
      tryNumber,
    ).map((r) => r.message);
  }

  count(table: 'dag_run' | 'task_instance' | 'task_try' | 'task_log' | 'xcom'): number {
    return this.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)[0]?.n ?? 0;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}

/**
 * A folder where DAG tasks append one line per execution, so a test can count how many
 * times each task really ran. `snippet` is TypeScript for a DAG file defining `count(name)`.
 */
export function executionCounter(ws: Workspace): {
  dir: string;
  snippet: string;
  count(name: string): number;
  /** Create the file `name` (a task waiting with `until(name)` goes on). */
  signal(name: string): void;
} {
  const dir = join(ws.root, 'executions');
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    snippet: [
      `import { appendFileSync as __append, existsSync as __exists } from 'node:fs';`,
      `const COUNTS = ${JSON.stringify(dir)};`,
      `const count = (name: string): void => __append(COUNTS + '/' + name, 'x\\n');`,
      `const until = async (name: string, signal?: AbortSignal): Promise<void> => {`,
      `  while (!__exists(COUNTS + '/' + name)) {`,
      `    if (signal?.aborted) throw signal.reason;`,
      `    await new Promise((r) => setTimeout(r, 25));`,
      `  }`,
      `};`,
      `void count; void until;`,
    ].join('\n'),
    count: (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).length : 0),
    signal: (name) => writeFileSync(join(dir, name), ''),
  };
}

/** The first JSON document in a command's stdout. */
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
