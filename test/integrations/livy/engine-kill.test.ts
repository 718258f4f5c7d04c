/**
 * The engine process dies (SIGKILL: OOM killer, a crashed node) while a client waits on a
 * statement: the client must say the session is lost once its window for unanswered polls
 * has passed, not poll forever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LivySessionLostError } from '../../../src/integrations/livy/index.ts';
import { ENDLESS_SQL } from '../../engine/support.ts';
import { startEngineProcess } from '../../helpers/engine-process.ts';
import type { EngineProcess } from '../../helpers/engine-process.ts';
import { failure, testClient } from './support.ts';

let engine: EngineProcess | undefined;
afterEach(async () => {
  await engine?.stop('SIGKILL');
});

describe('when the engine process is killed mid-statement', () => {
  it('the waiting client gets LivySessionLostError naming the connection failure', async () => {
    engine = await startEngineProcess();
    // Default retry policy (3 retries, 250 ms doubling): what a task would use.
    const livy = testClient(engine.url, { retry: undefined });
    const { id } = await livy.createSession({ kind: 'sql', name: 'doomed' });
    await livy.waitForSessionIdle(id);
    const st = await livy.submitStatement(id, { code: ENDLESS_SQL });
    for (let i = 0; i < 200 && (await livy.getStatement(id, st.id)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));

    // Polls are asked again for a while (a Livy restart, a gateway hiccup): a short window here.
    const waiting = failure(livy.waitForStatement(id, st.id, { poll: { minIntervalMs: 50, maxIntervalMs: 200 }, lostAfterMs: 1000 }));
    expect(await engine.stop('SIGKILL')).toBe('SIGKILL');
    const error = await waiting;

    expect(error).toBeInstanceOf(LivySessionLostError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_SESSION_LOST', sessionId: id });
    expect(error.message).toMatch(/the server stopped answering \((ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)/);
    await livy.close();
  });
});
