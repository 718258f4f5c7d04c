/** Batches: spark-submit over REST, `…/batches` (docs/livy-api.md, "Batches"). */
import { call, httpError, seg } from './http.ts';
import { allPages, pickFields } from './sessions.ts';
import type { Send } from './transport.ts';
import type { Batch, BatchState, CreateBatchRequest, Page } from './types.ts';

const CREATE_FIELDS = [
  'file', 'className', 'args', 'proxyUser', 'jars', 'pyFiles', 'files', 'archives', 'driverMemory',
  'driverCores', 'executorMemory', 'executorCores', 'numExecutors', 'queue', 'name', 'conf',
] as const;

/** Submit a batch. Livy answers 201 with the batch `starting`. Never retried. */
export function createBatch(send: Send, request: CreateBatchRequest, signal?: AbortSignal): Promise<Batch> {
  return call<Batch>(send, { method: 'POST', path: '/batches', body: pickFields(request, CREATE_FIELDS), signal }, [201, 200]);
}

/** Get a batch by id (or name, on Livy 0.8+). */
export function getBatch(send: Send, idOrName: number | string, signal?: AbortSignal): Promise<Batch> {
  return call<Batch>(send, { method: 'GET', path: `/batches/${seg(idOrName)}`, signal });
}

/** The batch's state alone. */
export function getBatchState(send: Send, id: number, signal?: AbortSignal): Promise<{ id: number; state: BatchState }> {
  return call(send, { method: 'GET', path: `/batches/${seg(id)}/state`, signal });
}

/** One page of batches (the list key is `sessions`, as Livy sends it). */
export function listBatches(send: Send, page: { from?: number; size?: number } = {}, signal?: AbortSignal): Promise<Page<Batch>> {
  return call<Page<Batch>>(send, { method: 'GET', path: '/batches', query: { from: page.from, size: page.size }, signal });
}

/** Every batch, page by page: the lookup that works on every Livy version (GET by name needs 0.8+). */
export function allBatches(send: Send, signal?: AbortSignal): AsyncGenerator<Batch> {
  return allPages((page) => listBatches(send, page, signal));
}

/** Kill and forget a batch. Resolves false if it was already gone (404). */
export async function deleteBatch(send: Send, id: number, signal?: AbortSignal): Promise<boolean> {
  const request = { method: 'DELETE', path: `/batches/${seg(id)}`, signal } as const;
  const response = await send(request);
  if (response.status === 404) return false;
  if (response.status !== 200) throw httpError(request, response);
  return true;
}
