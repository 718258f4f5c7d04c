/** `GET /version`: Livy's build info; `version` is the Livy API level the engine speaks. */
import { userInfo } from 'node:os';
import { version as duckdbVersion } from '@duckdb/node-api';
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engine.ts';

/** The Livy release whose REST contract the engine implements. */
export const LIVY_API_VERSION = '0.8.0';

/** Fastify plugin for `GET /version`. */
export const versionRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/version', async () => ({
    version: LIVY_API_VERSION,
    user: userInfo().username,
    revision: 'orch-engine',
    branch: `duckdb-${duckdbVersion()}`,
    date: engine.startedAt.toISOString(),
    url: 'embedded',
  }));
};
