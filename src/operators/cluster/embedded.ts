/**
 * The embedded backend: a "cluster" is an `orch engine` process on this machine, started
 * detached so it outlives a scheduler crash (the run is resumed against the same engine),
 * and stopped by terminate. Its pid and URL are recorded the moment they are known.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrchError, isDetached } from '../../errors.ts';
import { LivyClient } from '../../integrations/livy/index.ts';
import type { ClusterCreateOptions, Duration, TaskContext } from '../../sdk/index.ts';
import type { PlanStep, TaskPlan } from '../../core/operator.ts';
import type { ClusterBackend, ClusterInfo } from './backend.ts';
import { pidAlive } from '../../util/process.ts';
import { isLiveEngine, stopEngine } from './process.ts';

const ORCH_BIN = fileURLToPath(new URL('../../../bin/orch.js', import.meta.url));
const LISTENING = /orch engine listening on (http:\/\/\S+)/;

export class EngineStartFailedError extends OrchError {
  constructor(detail: string, readonly logFile: string) {
    super('ORCH_EMBEDDED_ENGINE_FAILED', `the embedded engine did not start: ${detail} (its log: ${logFile})`);
  }
}

/** `backends.embedded` in orch.config.json. */
export interface EmbeddedSettings {
  /** Default for cluster.create's `embedded.idleTimeout`: an engine idle this long stops itself. */
  idleTimeout?: Duration;
}

export class EmbeddedBackend implements ClusterBackend {
  readonly name = 'embedded';
  readonly dialects = ['duckdb'] as const;

  /**
   * `home` is ORCH_HOME: engines live in `<home>/engines/<cluster id>`. `settings` come from
   * `backends.embedded` in orch.config.json; a DAG's cluster.create options win over them.
   */
  constructor(
    private readonly home: string,
    private readonly settings: EmbeddedSettings = {},
  ) {}

  async create(ctx: TaskContext, options: ClusterCreateOptions): Promise<ClusterInfo> {
    // Unique per spawn: a retried or resumed create never reads another engine's log or handle.
    const clusterId = `${safe(options.name ?? ctx.dagId)}-${safe(ctx.runId)}-${ctx.tryNumber}`.slice(0, 110) + `-${randomBytes(3).toString('hex')}`;
    const dir = join(this.home, 'engines', clusterId);
    mkdirSync(dir, { recursive: true });
    const logFile = join(dir, 'engine.log');
    // A token only this user can read: another local user cannot drive the engine by guessing its port.
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const out = openSync(logFile, 'a');
    const args = [ORCH_BIN, 'engine', '--port', '0', '--home', dir, '--token-file', tokenFile];
    if (options.embedded?.memoryLimit) args.push('--memory-limit', options.embedded.memoryLimit);
    if (options.embedded?.maxSessions) args.push('--max-sessions', String(options.embedded.maxSessions));
    // An engine outlives a crashed orch so the run can resume against it; if it never does, this stops it.
    const idleTimeout = options.embedded?.idleTimeout ?? this.settings.idleTimeout ?? '1h';
    args.push('--idle-timeout', typeof idleTimeout === 'number' ? `${idleTimeout}ms` : idleTimeout);
    // Detached, in its own process group, output to a file: it must survive this process.
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ORCH_HOME: this.home } });
    closeSync(out);
    child.unref();
    const pid = child.pid;
    if (!pid) throw new EngineStartFailedError('the process could not be spawned', logFile);
    ctx.handles.record({ kind: 'cluster', externalId: clusterId, data: { backend: this.name, pid, logFile, tokenFile } });
    ctx.log.info(`started orch engine (pid ${pid}); log: ${logFile}`);
    let url: string;
    try {
      url = await this.readUrl(pid, logFile, ctx.signal);
    } catch (err) {
      // A detached try (a drain, a lost lease) leaves its engine and handle: the next owner's
      // resume reattaches to it. Otherwise never leave a half-started engine behind.
      if (!isDetached(ctx.signal)) {
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
        ctx.handles.release('cluster', clusterId);
      }
      throw err;
    }
    ctx.handles.record({ kind: 'cluster', externalId: clusterId, url, data: { backend: this.name, pid, logFile, tokenFile } });
    ctx.log.info(`embedded engine listening on ${url}`);
    return { backend: this.name, clusterId, livyUrl: url, localFiles: true, pid, logFile, tokenFile };
  }

  async reattach(ctx: TaskContext): Promise<ClusterInfo | undefined> {
    for (const h of ctx.handles.list('cluster')) {
      const pid = Number(h.data?.pid);
      const logFile = String(h.data?.logFile ?? '');
      if (!isLiveEngine(pid)) continue;
      const url = h.url ?? (await this.readUrl(pid, logFile, ctx.signal));
      ctx.log.info(`reattached to the embedded engine started by try ${h.tryNumber} (pid ${pid}, ${url})`);
      const tokenFile = typeof h.data?.tokenFile === 'string' ? h.data.tokenFile : undefined;
      return { backend: this.name, clusterId: h.externalId, livyUrl: url, localFiles: true, pid, logFile, tokenFile };
    }
    return undefined;
  }

  async waitReady(ctx: TaskContext, info: ClusterInfo, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const client = new LivyClient({ ...this.livyOptions(info), timeoutMs: 5_000, retry: { retries: 0 } });
    try {
      for (;;) {
        const pid = Number(info.pid);
        if (pid && !pidAlive(pid)) throw new EngineStartFailedError(`process ${pid} exited`, String(info.logFile));
        try {
          const v = await client.version(ctx.signal);
          ctx.log.info(`engine ready: Livy API ${v.version} (${v.branch ?? 'duckdb'})`);
          return;
        } catch (err) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          if (Date.now() > deadline) throw new EngineStartFailedError(`no answer from ${info.livyUrl} within ${timeoutMs / 1000} s: ${(err as Error).message}`, String(info.logFile));
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await client.close();
    }
  }

  async terminate(ctx: TaskContext, info: ClusterInfo): Promise<void> {
    const pid = Number(info.pid);
    if (!isLiveEngine(pid)) {
      ctx.log.info(`engine ${info.clusterId} is not running; nothing to stop`);
      return;
    }
    if (await stopEngine(pid)) ctx.log.warn(`engine pid ${pid} did not stop within 15 s of SIGTERM; it was killed`);
    ctx.log.info(`stopped the embedded engine (pid ${pid})`);
  }

  livyOptions(info: ClusterInfo) {
    return { url: info.livyUrl, headers: engineAuthHeaders(info) };
  }

  planCreate(ctx: TaskContext, options: ClusterCreateOptions): TaskPlan & { result: ClusterInfo } {
    const idle = options.embedded?.idleTimeout ?? this.settings.idleTimeout ?? '1h';
    const limits = [options.embedded?.memoryLimit && `memory limit ${options.embedded.memoryLimit}`, `idle timeout ${idle}`].filter(Boolean).join(', ');
    return {
      steps: [{ call: `start \`orch engine\` on this machine (${limits}; home ${join(this.home, 'engines', '<cluster id>')})` }],
      result: { backend: this.name, clusterId: '<engine id>', livyUrl: 'http://127.0.0.1:<port>', localFiles: true },
    };
  }

  planWaitReady(info: ClusterInfo, timeoutMs: number): PlanStep[] {
    return [{ call: `GET ${info.livyUrl}/version every 200 ms until the engine answers (at most ${timeoutMs / 1000} s)` }];
  }

  planTerminate(): PlanStep[] {
    return [{ call: 'stop the engine process (SIGTERM; SIGKILL after 15 s)' }];
  }

  /** The URL the engine prints once it listens; fails fast if it exits first. */
  private async readUrl(pid: number, logFile: string, signal: AbortSignal): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      const match = LISTENING.exec(text);
      if (match) return match[1]!;
      if (!pidAlive(pid)) throw new EngineStartFailedError(`it exited before listening: ${text.trim().split('\n').slice(-3).join(' | ')}`, logFile);
      if (Date.now() > deadline) throw new EngineStartFailedError('it did not report a URL within 60 s', logFile);
      if (signal.aborted) throw signal.reason;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The engine's token (read from its file, never stored in the database) as a request header. */
export function engineAuthHeaders(info: Record<string, unknown>): Record<string, string> | undefined {
  if (typeof info.tokenFile !== 'string') return undefined;
  try {
    return { authorization: `Bearer ${readFileSync(info.tokenFile, 'utf8').trim()}` };
  } catch {
    return undefined; // The engine's folder is gone: so is the engine, and the request says so.
  }
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');
