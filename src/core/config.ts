/**
 * Where orch keeps things and how big it runs: from flags, the environment
 * (ORCH_HOME, ORCH_DAGS_FOLDER, ORCH_CONFIG, ORCH_BACKEND) and `orch.config.json`, in that order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { closest } from '../util/suggest.ts';

const hint = (word: string, known: string[]) => {
  const h = closest(word, known);
  return h ? ` (did you mean '${h}'?)` : '';
};

const FileSchema = z
  .object({
    home: z.string().optional(),
    dagsFolder: z.string().optional(),
    parallelism: z.number().int().min(1).optional(),
    pools: z.record(z.string(), z.number().int().min(0)).optional(),
    heartbeatSeconds: z.number().positive().optional(),
    leaseSeconds: z.number().positive().optional(),
    /** SQLite's synchronous setting: NORMAL survives a crash of orch; FULL also a power loss, at a flush per commit. */
    synchronous: z.enum(['NORMAL', 'FULL']).optional(),
    backend: z.string().optional(),
    /** Seconds a DAG file may take to import (Airflow's dagbag_import_timeout). */
    dagImportTimeout: z.number().positive().optional(),
    /** Seconds for single files, by file name in the DAGs folder: `{ "train.ts": 120 }`. */
    dagImportTimeouts: z.record(z.string().regex(/^[^/\\]+\.ts$/, 'expected a DAG file name such as etl.ts'), z.number().positive()).optional(),
    /** `orch web` / `orch standalone`: where to listen and who may use it. */
    web: z
      .object({
        host: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535).optional(),
        auth: z.union([z.object({ token: z.string().min(8) }).strict(), z.object({ username: z.string().min(1), password: z.string().min(8) }).strict()]).optional(),
      })
      .strict()
      .optional(),
    /** Backend settings, read by the cluster operators. */
    backends: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict();

export interface OrchConfig {
  home: string;
  dbFile: string;
  dagsFolder: string;
  parallelism: number;
  pools: Record<string, number>;
  heartbeatMs: number;
  leaseMs: number;
  synchronous: 'NORMAL' | 'FULL';
  dagImportTimeoutMs: number;
  /** Per-file import limits, by file name in the DAGs folder. */
  dagImportTimeoutsMs: Record<string, number>;
  backend: string | undefined;
  backends: Record<string, Record<string, unknown>>;
  configFile: string | undefined;
  web: WebConfig;
}

/** Credentials the web server asks for: a bearer token, or basic auth. */
export type WebAuth = { token: string } | { username: string; password: string };

export interface WebConfig {
  host: string;
  port: number;
  /** Undefined: no auth (only allowed on a loopback address). */
  auth: WebAuth | undefined;
}

export interface ConfigOverrides {
  dagsFolder?: string;
  backend?: string;
}

/** Resolve the configuration for a command run in `cwd`. */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): OrchConfig {
  const explicit = env.ORCH_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : join(cwd, 'orch.config.json');
  let fromFile: z.infer<typeof FileSchema> = {};
  if (existsSync(file)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(file, `not valid JSON: ${(err as Error).message}`);
    }
    const parsed = FileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ConfigError(
        file,
        parsed.error.issues
          .map((i) =>
            i.code === 'unrecognized_keys'
              ? i.keys.map((k) => `unknown setting '${k}'${hint(k, Object.keys(FileSchema.shape))}`).join('; ')
              : // A bad record key's own message ("expected a DAG file name …") sits one level down.
                `${i.path.join('.')}: ${(i.code === 'invalid_key' && i.issues[0]?.message) || i.message}`,
          )
          .join('; '),
      );
    }
    fromFile = parsed.data;
    const heartbeat = fromFile.heartbeatSeconds ?? 2;
    const lease = fromFile.leaseSeconds ?? 30;
    // A lease shorter than a few heartbeats expires under a live owner at the first slow write.
    if (lease < 3 * heartbeat) throw new ConfigError(file, `leaseSeconds (${lease}) must be at least 3 × heartbeatSeconds (${heartbeat})`);
  } else if (explicit) {
    throw new ConfigError(file, 'ORCH_CONFIG names a file that does not exist');
  }
  const home = resolve(cwd, env.ORCH_HOME ?? fromFile.home ?? '.orch');
  return {
    home,
    dbFile: join(home, 'orch.db'),
    dagsFolder: resolve(cwd, overrides.dagsFolder ?? env.ORCH_DAGS_FOLDER ?? fromFile.dagsFolder ?? 'dags'),
    parallelism: fromFile.parallelism ?? 32,
    pools: fromFile.pools ?? {},
    heartbeatMs: (fromFile.heartbeatSeconds ?? 2) * 1000,
    leaseMs: (fromFile.leaseSeconds ?? 30) * 1000,
    synchronous: fromFile.synchronous ?? 'NORMAL',
    dagImportTimeoutMs: (fromFile.dagImportTimeout ?? 30) * 1000,
    dagImportTimeoutsMs: Object.fromEntries(Object.entries(fromFile.dagImportTimeouts ?? {}).map(([file, s]) => [file, s * 1000])),
    backend: overrides.backend ?? env.ORCH_BACKEND ?? fromFile.backend,
    backends: fromFile.backends ?? {},
    configFile: existsSync(file) ? file : undefined,
    web: {
      host: fromFile.web?.host ?? '127.0.0.1',
      port: fromFile.web?.port ?? 8080,
      auth: webAuth(env, fromFile.web?.auth),
    },
  };
}

/** Auth for the web server: the environment wins over the file; a half-set pair is an error, not "no auth". */
function webAuth(env: NodeJS.ProcessEnv, fromFile: WebAuth | undefined): WebAuth | undefined {
  if (env.ORCH_WEB_TOKEN) return { token: env.ORCH_WEB_TOKEN };
  const { ORCH_WEB_USERNAME: username, ORCH_WEB_PASSWORD: password } = env;
  if (username && password) return { username, password };
  if (username || password) throw new ConfigError('the environment', 'ORCH_WEB_USERNAME and ORCH_WEB_PASSWORD go together: set both, or neither');
  return fromFile;
}
