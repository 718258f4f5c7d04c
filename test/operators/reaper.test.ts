/**
 * The reaper and Livy work left open: a session or batch whose delete failed at the end of
 * its try is deleted once that try has ended — through the backend's own settings (URL,
 * headers, auth) — and never while its try is still running (it may be resumed).
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logging.ts';
import { reapClusters } from '../../src/operators/cluster/reaper.ts';
import { batchOperator } from '../../src/operators/livy/batch.ts';
import { statementOperator } from '../../src/operators/livy/statement.ts';
import { waitFor } from '../helpers/cli.ts';
import { ENDLESS_SQL } from '../engine/support.ts';
import { bench, onEngine, startTry, type Bench } from './support.ts';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const LIVY = { backend: 'livy' as const, config: { backends: { livy: { headers: { 'X-Team': 'data-eng' }, auth: { username: 'orch', password: 's3cret' } } } } };
const BASIC = `Basic ${Buffer.from('orch:s3cret').toString('base64')}`;
const openHandles = (b: Bench, kind: string) => b.store.db.prepare(`SELECT external_id AS id FROM external_handle WHERE kind = ? AND released_at IS NULL`).all(kind) as { id: string }[];


describe('the reaper', () => {
  it("deletes a session whose delete failed once its try has ended, with the backend's headers and auth, and not before", async () => {
    // Reproduces issue 7 (13): a session whose delete failed at the end of a task stayed open for good.
    b = await bench(['stmt'], LIVY);
    const endTry = startTry(b.store, b.key('stmt'));
    b.proxy.faults.push((hit) => (hit.method === 'DELETE' ? { reply: 500, body: '{"msg":"the Livy server is restarting"}' } : undefined));
    const result = (await statementOperator(b.backends).execute(b.context('stmt'), { cluster: 'create_cluster', code: { duckdb: 'SELECT 1 AS one' } })) as { sessionId: number };
    expect(b.logs('stmt').join('\n')).toContain(`could not delete Livy session ${result.sessionId}`);
    b.proxy.faults.length = 0;
    expect(openHandles(b, 'livy-session')).toEqual([{ id: String(result.sessionId) }]);

    // The try is still running (as far as the database knows): it may be resumed, so hands off.
    const deletes = () => b!.proxy.hits.filter((h) => h.method === 'DELETE');
    await reapClusters(b.store, silentLogger, b.backends);
    expect(deletes()).toHaveLength(1);
    expect((await onEngine(b, `/sessions/${result.sessionId}`)).status).toBe(200);

    endTry('success');
    await reapClusters(b.store, silentLogger, b.backends);
    expect((await onEngine(b, `/sessions/${result.sessionId}`)).status).toBe(404);
    expect(openHandles(b, 'livy-session')).toEqual([]);
    const reaped = deletes()[1]!;
    expect(reaped.url).toBe(`/sessions/${result.sessionId}`);
    expect(reaped.headers).toMatchObject({ 'x-team': 'data-eng', authorization: BASIC });
  });

  it('kills a batch whose kill failed when its try was aborted, once the try has ended', async () => {
    b = await bench(['job'], LIVY);
    const endTry = startTry(b.store, b.key('job'));
    const sql = join(b.ws.root, 'endless.sql');
    writeFileSync(sql, `${ENDLESS_SQL};\n`);
    b.proxy.faults.push((hit) => (hit.method === 'DELETE' ? { reply: 500, body: '{"msg":"the Livy server is restarting"}' } : undefined));
    const stop = new AbortController();
    const job = batchOperator(b.backends).execute(b.context('job', { signal: stop.signal }), { cluster: 'create_cluster', file: sql }).catch((err: Error) => err);
    const [, batchId] = await waitFor('the batch to be submitted', () => /submitted batch (\d+)/.exec(b!.logs('job').join('\n')));
    stop.abort(new Error('executionTimeout'));
    await job;
    expect(b.logs('job').join('\n')).toContain(`could not kill batch ${batchId}`);
    b.proxy.faults.length = 0;
    expect(['starting', 'running']).toContain((await onEngine(b, `/batches/${batchId}`)).body.state);

    endTry('failed');
    await reapClusters(b.store, silentLogger, b.backends);
    expect((await onEngine(b, `/batches/${batchId}`)).status).toBe(404);
    expect(openHandles(b, 'livy-batch')).toEqual([]);
  });

  it('does not let a Livy that never answers hold up the other leftovers: it works on several at once', async () => {
    b = await bench(['a', 'b', 'c'], LIVY);
    // A server that accepts connections and never answers: each call to it waits out its timeout.
    const waiting = new Set<Socket>();
    const silent = createServer((socket) => {
      waiting.add(socket);
      socket.on('close', () => waiting.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const now = new Date().toISOString();
      for (const task of ['a', 'b']) {
        b.store.handles.record(b.key(task), 1, { kind: 'livy-session', externalId: '0', url: silentUrl, data: { name: `orch-op-${task}-1`, backend: 'livy' } }, now);
      }
      const created = await fetch(`${b.engine.url}/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-requested-by': 'test' },
        body: JSON.stringify({ kind: 'sql', name: 'orch-op-c-1' }),
      });
      const { id } = (await created.json()) as { id: number };
      b.store.handles.record(b.key('c'), 1, { kind: 'livy-session', externalId: String(id), url: b.proxy.url, data: { name: 'orch-op-c-1', backend: 'livy' } }, now);

      // What the reaper says, in order: a debug line per leftover it could not reach yet.
      const said: string[] = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => void said.push((JSON.parse(line) as { msg: string }).msg) });
      const reaping = reapClusters(b.store, logger, b.backends);
      let gone = false;
      while (!gone) {
        gone = (await onEngine(b, `/sessions/${id}`)).status === 404;
        if (!gone) await new Promise((r) => setTimeout(r, 50));
      }
      // The reachable session went while both calls to the silent server were still waiting.
      expect(said.filter((m) => m.startsWith('could not delete leftover'))).toEqual([]);
      await reaping;
      expect(said.filter((m) => m.startsWith('could not delete leftover')).sort()).toEqual([
        `could not delete leftover Livy session 'orch-op-a-1' at ${silentUrl} yet`,
        `could not delete leftover Livy session 'orch-op-b-1' at ${silentUrl} yet`,
      ]);
      expect(openHandles(b, 'livy-session').map((h) => h.id)).toEqual(['0', '0']); // kept, to try again later
    } finally {
      for (const socket of waiting) socket.destroy();
      silent.close();
    }
  });
});
