/**
 * The reaper removes what Livy removes: sessions whose client stopped polling, and finished
 * sessions after `livy.server.session.state-retain.sec` (10 minutes).
 */
import { describe, expect, it } from 'vitest';
import { SessionLog } from '../../src/engine/log-ring.ts';
import { FINISHED_RETENTION_MS, Registry } from '../../src/engine/registry.ts';
import type { Tracked } from '../../src/engine/registry.ts';

function item(id: number, overrides: Partial<Tracked> = {}): Tracked & { stopped: boolean } {
  const tracked = {
    id,
    name: `s${id}`,
    log: new SessionLog(10),
    state: 'idle',
    finishedAt: undefined as number | undefined,
    stopped: false,
    heartbeat() {},
    expiry: () => undefined as string | undefined,
    async stop() {
      tracked.stopped = true;
    },
    toJSON: () => ({ id }),
    ...overrides,
  };
  return tracked;
}

describe('the registry', () => {
  it('gives ids from 0 and finds by id (all digits) or by name', () => {
    const registry = new Registry<Tracked>();
    registry.add((id) => item(id));
    const second = registry.add((id) => item(id));
    expect(second.id).toBe(1);
    expect(registry.find('1')).toBe(second);
    expect(registry.find('s1')).toBe(second);
    expect(registry.find('7')).toBeUndefined();
  });

  it('keeps a finished session for 10 minutes, then forgets it', async () => {
    const registry = new Registry<Tracked>();
    const finished = registry.add((id) => item(id, { state: 'dead', finishedAt: 1_000 }));
    await registry.sweep(1_000 + FINISHED_RETENTION_MS - 1);
    expect(registry.find(String(finished.id))).toBe(finished);
    await registry.sweep(1_000 + FINISHED_RETENTION_MS + 1);
    expect(registry.find(String(finished.id))).toBeUndefined();
  });

  it('stops and removes a session whose timeout expired, noting why in its log', async () => {
    const registry = new Registry<ReturnType<typeof item>>();
    const expired = registry.add((id) => item(id, { expiry: () => 'no client asked about it' }));
    const fine = registry.add((id) => item(id));
    await registry.sweep(Date.now());
    expect(expired.stopped).toBe(true);
    expect(registry.all()).toEqual([fine]);
    expect(expired.log.lines().join('\n')).toContain('deleting: no client asked about it');
  });
});
