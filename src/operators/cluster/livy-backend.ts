/**
 * The livy backend: an existing Livy server (YARN, k8s, docker-compose) given by URL.
 * There is nothing to create or terminate; "ready" means the server answers.
 */
import { OrchError } from '../../errors.ts';
import { LivyClient, type LivyClientOptions } from '../../integrations/livy/index.ts';
import type { TaskContext } from '../../sdk/index.ts';
import type { PlanStep, TaskPlan } from '../../core/operator.ts';
import type { ClusterBackend, ClusterInfo } from './backend.ts';

/** What `GET /version` of an `orch engine` reports as its revision. */
const ENGINE_REVISION = 'orch-engine';

export interface LivyBackendSettings {
  url?: string;
  headers?: Record<string, string>;
  auth?: { username: string; password: string };
  /** A bearer token (an `orch engine --token-file`, a gateway in front of Livy); ORCH_LIVY_TOKEN overrides it. */
  token?: string;
}

export class LivyUrlMissingError extends OrchError {
  constructor() {
    super(
      'ORCH_LIVY_URL_MISSING',
      'the livy backend needs a Livy URL: set ORCH_LIVY_URL, or "backends": {"livy": {"url": "http://host:8998"}} in orch.config.json',
    );
  }
}

export class BadLivyUrlError extends OrchError {
  constructor(url: string, where: string) {
    super('ORCH_LIVY_URL_INVALID', `${where} is '${url}', which is not an http(s) URL; write it like http://livy-host:8998`);
  }
}

/** Throws BadLivyUrlError unless `url` is an http(s) URL. */
export function checkLivyUrl(url: string, where: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadLivyUrlError(url, where);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new BadLivyUrlError(url, where);
}

const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

/**
 * An `orch engine` speaks Livy but runs DuckDB SQL: when the server at `info.livyUrl` is
 * one, statements must use their duckdb code, and on this machine orch shares its files.
 * Marks `info` so; a server that does not answer yet is left as Spark.
 */
export async function noteOrchEngine(ctx: TaskContext, info: ClusterInfo, options: LivyClientOptions, timeoutMs: number, otherwise: string): Promise<void> {
  const client = new LivyClient({ ...options, timeoutMs, retry: { retries: timeoutMs >= 10_000 ? 1 : 0 } });
  try {
    const v = await client.version(ctx.signal);
    if (v.revision === ENGINE_REVISION) {
      ctx.log.info(`${info.livyUrl} is an orch engine: statements run their duckdb code`);
      info.dialects = ['duckdb'];
      info.localFiles = isLoopback(info.livyUrl);
    }
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.log.warn(`could not ask ${info.livyUrl} for its version yet (${(err as Error).message}); ${otherwise}`);
  } finally {
    await client.close();
  }
}

export class LivyBackend implements ClusterBackend {
  readonly name = 'livy';
  readonly dialects = ['spark', 'pyspark', 'sparksql'] as const;

  constructor(private readonly settings: LivyBackendSettings) {}

  async create(ctx: TaskContext): Promise<ClusterInfo> {
    const url = this.settings.url;
    if (!url) throw new LivyUrlMissingError();
    checkLivyUrl(url, 'the Livy URL (ORCH_LIVY_URL or backends.livy.url)');
    ctx.log.info(`using the Livy server at ${url} (the livy backend creates nothing)`);
    const info: ClusterInfo = { backend: this.name, clusterId: url, livyUrl: url };
    await noteOrchEngine(ctx, info, this.livyOptions(info), 10_000, 'wait_for_cluster will check again');
    return info;
  }

  async reattach(ctx: TaskContext): Promise<ClusterInfo> {
    return this.create(ctx);
  }

  async waitReady(ctx: TaskContext, info: ClusterInfo, timeoutMs: number): Promise<void> {
    const client = new LivyClient({ ...this.livyOptions(info), timeoutMs: Math.min(timeoutMs, 30_000) });
    try {
      const v = await client.version(ctx.signal);
      const sessions = await client.listSessions({ from: 0, size: 1 }, ctx.signal);
      ctx.log.info(`Livy ${v.version} at ${info.livyUrl} is up (${sessions.total} session(s) open)`);
    } finally {
      await client.close();
    }
  }

  async terminate(ctx: TaskContext, info: ClusterInfo): Promise<void> {
    ctx.log.info(`leaving the Livy server at ${info.livyUrl} running (the livy backend does not own it)`);
  }

  planCreate(): TaskPlan & { result: ClusterInfo } {
    const url = this.settings.url;
    if (!url) throw new LivyUrlMissingError();
    return { steps: [{ call: `GET ${url}/version (the livy backend creates nothing; is it an orch engine?)` }], result: { backend: this.name, clusterId: url, livyUrl: url } };
  }

  planWaitReady(info: ClusterInfo): PlanStep[] {
    return [{ call: `GET ${info.livyUrl}/version` }, { call: `GET ${info.livyUrl}/sessions?from=0&size=1` }];
  }

  planTerminate(info: ClusterInfo): PlanStep[] {
    return [{ call: `nothing: the Livy server at ${info.livyUrl} is not orch's to stop` }];
  }

  livyOptions(info: ClusterInfo): LivyClientOptions {
    const bearer: Record<string, string> = this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {};
    return { url: info.livyUrl, headers: { ...this.settings.headers, ...bearer }, auth: this.settings.auth };
  }
}
