/**
 * Livy sessions and batches left open by tries that have ended: their delete failed at the
 * end of the try (Livy unreachable for a moment), or the process died and the try was then
 * failed or retried. The reaper deletes them. A handle of a try that is still `running` is
 * never touched, whatever its process: that try may be resumed (or detached and followed by
 * another process), and its owner releases what it opened.
 */
import pLimit from 'p-limit';
import type { Logger } from '../../core/logging.ts';
import type { LivyClient } from '../../integrations/livy/index.ts';
import type { ExternalHandleRow, Store } from '../../store/index.ts';
import type { Backends } from '../cluster/backends.ts';
import { deleteNamed, leftoverClient, settledLeftover } from './earlier-work.ts';
import { BATCH, SESSION } from './session.ts';

/** Unreleased session and batch handles whose try is over (the task runs another try, or none). */
export function leftoverLivyHandles(store: Store): ExternalHandleRow[] {
  const rows = store.db
    .prepare(
      `SELECT h.id, h.dag_id AS dagId, h.run_id AS runId, h.task_id AS taskId, h.try_number AS tryNumber, h.kind,
         h.external_id AS externalId, h.url, h.data, h.created_at AS createdAt, h.released_at AS releasedAt
       FROM external_handle h LEFT JOIN task_instance t ON t.dag_id = h.dag_id AND t.run_id = h.run_id AND t.task_id = h.task_id
       WHERE h.kind IN (?, ?) AND h.released_at IS NULL
         AND NOT coalesce(t.state = 'running' AND t.try_number = h.try_number, 0)
       ORDER BY h.id`,
    )
    .all(SESSION, BATCH) as (Omit<ExternalHandleRow, 'data'> & { data: string | null })[];
  return rows.map((r) => ({ ...r, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null }));
}

/**
 * Livy calls the reaper makes at once: enough that one unreachable server (10 s per call)
 * does not hold up the others for minutes, few enough not to flood a Livy.
 */
const REAP_CONCURRENCY = 4;

/** Delete leftover sessions and batches with each one's backend settings (URL, headers, auth); returns how many. */
export async function reapLivyLeftovers(store: Store, logger: Logger, backends: Backends): Promise<number> {
  let deleted = 0;
  const limit = pLimit(REAP_CONCURRENCY);
  await Promise.all(leftoverLivyHandles(store).map((h) => limit(async () => {
    const what = h.kind === SESSION ? 'session' : 'batch';
    const where = { dag: h.dagId, run: h.runId, task: h.taskId, try: h.tryNumber };
    const release = () => store.handles.releaseById(h.id, new Date().toISOString());
    const settled = settledLeftover(h);
    if (settled) {
      // Without its name the id cannot be told from another's after a Livy restart: never delete blindly.
      if (settled === 'unnamed') logger.warn(where, `Livy ${what} ${h.externalId} at ${h.url} was left open by an ended try; it has no recorded name, so orch does not delete it`);
      release();
      return;
    }
    const name = String(h.data!.name);
    let client: LivyClient;
    try {
      client = leftoverClient(backends, h, { timeoutMs: 10_000, retry: { retries: 1 } });
    } catch (err) {
      logger.warn({ ...where, err }, `cannot reach the backend of leftover Livy ${what} '${name}'`);
      return;
    }
    try {
      const id = await deleteNamed(client, h.kind, { name, id: Number(h.externalId) });
      if (id !== undefined) {
        logger.warn(where, `deleted Livy ${what} ${id} '${name}' at ${h.url}, left open by try ${h.tryNumber} of ${h.taskId}, which has ended`);
        deleted++;
      }
      release();
    } catch (err) {
      // Livy unreachable: keep the handle and try again at the next housekeeping.
      logger.debug({ ...where, err }, `could not delete leftover Livy ${what} '${name}' at ${h.url} yet`);
    } finally {
      await client.close();
    }
  })));
  return deleted;
}
