/** Picks the cluster backend: by name for a new cluster, by the cluster's XCom afterwards. */
import type { OrchConfig } from '../../core/config.ts';
import { ConfigError, OrchError } from '../../errors.ts';
import { durationMs, type Duration } from '../../sdk/index.ts';
import type { ClusterBackend, ClusterInfo } from './backend.ts';
import { EmrBackend, type EmrBackendSettings } from './emr/backend.ts';
import { databaseTag } from './emr/request.ts';
import { EmbeddedBackend, type EmbeddedSettings } from './embedded.ts';
import { LivyBackend, LivyUrlMissingError, checkLivyUrl, type LivyBackendSettings } from './livy-backend.ts';

export const BACKEND_NAMES = ['embedded', 'livy', 'emr'] as const;

export class UnknownBackendError extends OrchError {
  constructor(name: string) {
    super('ORCH_BACKEND_UNKNOWN', `unknown backend '${name}'; use one of: ${BACKEND_NAMES.join(', ')} (--backend, ORCH_BACKEND, or "backend" in orch.config.json)`);
  }
}

/** Fail before any run is created when the configured backend cannot work at all. */
export function checkBackend(config: OrchConfig, env: NodeJS.ProcessEnv = process.env): string {
  const name = env.ORCH_BACKEND ?? config.backend ?? 'embedded';
  backendsFrom(config, env).current();
  if (name === 'livy') {
    const fromEnv = env.ORCH_LIVY_URL;
    const url = fromEnv ?? (config.backends.livy as LivyBackendSettings | undefined)?.url;
    if (!url) throw new LivyUrlMissingError();
    checkLivyUrl(url, fromEnv ? 'ORCH_LIVY_URL' : 'backends.livy.url in orch.config.json');
  }
  return name;
}

export interface Backends {
  /** The backend new clusters are created on. */
  current(): ClusterBackend;
  /** The backend a cluster was created on. */
  of(info: ClusterInfo): ClusterBackend;
}

/** Backends as configured; the env is read when a task runs, so `--backend` reaches them. */
export function backendsFrom(config: OrchConfig, env: NodeJS.ProcessEnv = process.env): Backends {
  const byName = (name: string): ClusterBackend => {
    switch (name) {
      case 'embedded':
        return new EmbeddedBackend(config.home, embeddedSettings(config));
      case 'livy': {
        const fromFile = (config.backends.livy ?? {}) as LivyBackendSettings;
        const user = env.ORCH_LIVY_USER;
        return new LivyBackend({
          url: env.ORCH_LIVY_URL ?? fromFile.url,
          headers: fromFile.headers,
          auth: user ? { username: user, password: env.ORCH_LIVY_PASSWORD ?? '' } : fromFile.auth,
          token: env.ORCH_LIVY_TOKEN ?? fromFile.token,
        });
      }
      case 'emr':
        return new EmrBackend(config.backends.emr as EmrBackendSettings | undefined, databaseTag(config.dbFile));
      default:
        throw new UnknownBackendError(name);
    }
  };
  return {
    current: () => byName(env.ORCH_BACKEND ?? config.backend ?? 'embedded'),
    of: (info) => byName(info.backend),
  };
}

/** `backends.embedded` from orch.config.json, checked: a bad value names the setting. */
function embeddedSettings(config: OrchConfig): EmbeddedSettings {
  const raw = config.backends.embedded ?? {};
  const unknown = Object.keys(raw).filter((k) => k !== 'idleTimeout');
  const where = config.configFile ?? 'orch.config.json';
  if (unknown.length) throw new ConfigError(where, `backends.embedded: unknown setting${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: idleTimeout)`);
  const idleTimeout = raw.idleTimeout as Duration | undefined;
  if (idleTimeout !== undefined) {
    try {
      durationMs(idleTimeout);
    } catch (err) {
      throw new ConfigError(where, `backends.embedded.idleTimeout: ${(err as Error).message}`);
    }
  }
  return { idleTimeout };
}
