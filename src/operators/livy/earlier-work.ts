/**
 * Livy work that tries which have ended left open, and how it is deleted: checked by its
 * name first (a recorded id alone may name somebody else's session or batch after a Livy
 * restart), then deleted. The reaper does this some time after a try has ended; a new try
 * does it for its task's earlier tries before it submits, so that two batches (or two
 * statements) of one task never run at once.
 */
import { LivyClient } from '../../integrations/livy/index.ts';
import type { ExternalHandle, TaskContext } from '../../sdk/index.ts';
import type { ClusterInfo } from '../cluster/backend.ts';
import type { Backends } from '../cluster/backends.ts';
import { isLiveEngine } from '../cluster/process.ts';
import { EarlierWorkError } from './errors.ts';
import { SESSION } from './session.ts';

/** A recorded session or batch handle, as the store or a task context lists it. */
export interface Leftover {
  kind: string;
  externalId: string;
  url?: string | null;
  data?: Readonly<Record<string, unknown>> | null;
}

/**
 * Why a leftover needs no call to Livy — it has no URL, or the embedded engine that held it
 * has exited (and took it along), or it has no recorded name (its id cannot be told from
 * another's: never delete it blindly) — or undefined when Livy must be asked.
 */
export function settledLeftover(h: Leftover): 'no-url' | 'engine-exited' | 'unnamed' | undefined {
  const enginePid = Number(h.data?.enginePid);
  if (!h.url) return 'no-url';
  if (enginePid && !isLiveEngine(enginePid)) return 'engine-exited';
  if (typeof h.data?.name !== 'string') return 'unnamed';
  return undefined;
}

/** A client for the Livy a leftover lives on, with its backend's settings (headers, auth). */
export function leftoverClient(backends: Backends, h: Leftover, options: { timeoutMs?: number; retry?: { retries: number } } = {}): LivyClient {
  const info = { backend: String(h.data?.backend ?? 'livy'), clusterId: h.url!, livyUrl: h.url!, tokenFile: h.data?.tokenFile };
  return new LivyClient({ ...backends.of(info).livyOptions(info), ...options });
}

/** Find the session or batch by name (its recorded id first, if any) and delete it; the id deleted, or undefined if it was gone. */
export async function deleteNamed(client: LivyClient, kind: string, expected: { name: string; id?: number }, signal?: AbortSignal): Promise<number | undefined> {
  const found = kind === SESSION ? await client.reattachSession(expected, signal) : await client.reattachBatch(expected, signal);
  if (!found) return undefined;
  await (kind === SESSION ? client.deleteSession(found.id, signal) : client.deleteBatch(found.id, signal));
  return found.id;
}

/**
 * Before this try submits: delete the sessions or batches (`kind`) that earlier tries of the
 * task left open — their recorded handles, and, for a try that recorded none (it may have died
 * between Livy accepting the work and orch storing its id), the try's name (`nameOf`) on this
 * cluster. Throws EarlierWorkError when Livy cannot tell: the try must not submit then.
 */
export async function clearEarlierTries(ctx: TaskContext, backends: Backends, client: LivyClient, info: ClusterInfo, kind: string, nameOf: (tryNumber: number) => string): Promise<void> {
  if (ctx.tryNumber <= 1) return;
  const what = kind === SESSION ? 'session' : 'batch';
  const handles = ctx.handles.list(kind, true);
  for (let earlier = 1; earlier < ctx.tryNumber; earlier++) {
    const recorded = handles.filter((h) => h.tryNumber === earlier);
    if (!recorded.length) {
      const name = nameOf(earlier);
      const id = await clearing(ctx, what, name, earlier, info.livyUrl, () => deleteNamed(client, kind, { name }, ctx.signal));
      if (id !== undefined) ctx.log.warn(`deleted Livy ${what} ${id} '${name}', left running by try ${earlier}, before submitting this try's`);
      continue;
    }
    for (const h of recorded.filter((h) => !h.releasedAt)) await clearHandle(ctx, backends, what, h);
  }
}

async function clearHandle(ctx: TaskContext, backends: Backends, what: 'session' | 'batch', h: ExternalHandle): Promise<void> {
  const settled = settledLeftover(h);
  if (settled === 'unnamed') ctx.log.warn(`Livy ${what} ${h.externalId} at ${h.url} was left open by try ${h.tryNumber}; it has no recorded name, so orch does not delete it`);
  if (!settled) {
    const name = String(h.data!.name);
    const client = await clearing(ctx, what, name, h.tryNumber, h.url!, async () => leftoverClient(backends, h));
    try {
      const id = await clearing(ctx, what, name, h.tryNumber, h.url!, () => deleteNamed(client, h.kind, { name, id: Number(h.externalId) }, ctx.signal));
      if (id !== undefined) ctx.log.warn(`deleted Livy ${what} ${id} '${name}', left running by try ${h.tryNumber}, before submitting this try's`);
    } finally {
      await client.close();
    }
  }
  ctx.handles.release(h.kind, h.externalId);
}

async function clearing<T>(ctx: TaskContext, what: 'session' | 'batch', name: string, earlier: number, url: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new EarlierWorkError(what, name, earlier, ctx.tryNumber, url, (err as Error).message, { cause: err });
  }
}
