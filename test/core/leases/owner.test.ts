/**
 * Who may adopt a run: a run's owner is judged by the process itself when it shares our
 * pid space, and by its lease everywhere else. Real processes (a child that sleeps), real
 * /proc identities.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ownerGone } from '../../../src/core/leases/owner.ts';
import type { DagRunRow } from '../../../src/store/index.ts';
import { processIdentity } from '../../../src/util/process.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A live process that is not this one. */
async function liveProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child.pid!;
}

const NOW = new Date('2026-12-02T10:00:00.000Z');
const LIVE_LEASE = '2026-12-02T10:00:30.000Z';
const EXPIRED_LEASE = '2026-12-02T09:59:00.000Z';

function run(owner: { host?: string; pid: number; identity: string | null; lease: string }): DagRunRow {
  return {
    dagId: 'd', runId: 'r', runType: 'manual', triggeredBy: 'cli', logicalDate: '', dataIntervalStart: '', dataIntervalEnd: '',
    conf: {}, params: {}, state: 'running', queuedAt: '', startDate: '', endDate: null, cancelRequested: false, note: null,
    ownerId: 'someone', ownerHost: owner.host ?? hostname(), ownerPid: owner.pid, ownerIdentity: owner.identity, leaseExpiresAt: owner.lease,
  };
}

describe('an owner on this machine, in our pid space', () => {
  it('keeps its run while it lives, even with its lease run out (its event loop was blocked)', async () => {
    const pid = await liveProcess();
    expect(ownerGone(run({ pid, identity: processIdentity(pid)!, lease: EXPIRED_LEASE }), NOW)).toBe(false);
  });

  it('is gone as soon as its process has exited, even with a live lease', async () => {
    const pid = await liveProcess();
    const identity = processIdentity(pid)!;
    const child = children.pop()!;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(ownerGone(run({ pid, identity, lease: LIVE_LEASE }), NOW)).toBe(true);
  });

  it('is gone when its pid now belongs to another process (a reused pid), even with a live lease', async () => {
    const pid = await liveProcess();
    const identity = processIdentity(pid)!;
    // The same pid, started at another time: what a reused pid looks like.
    const reused = identity.replace(/\/\d+$/, (t) => `/${Number(t.slice(1)) - 1}`);
    expect(ownerGone(run({ pid, identity: reused, lease: LIVE_LEASE }), NOW)).toBe(true);
  });
});

describe('an owner whose pids we cannot see', () => {
  it('in another container with the same host name (another pid namespace or boot): the lease decides', async () => {
    const pid = await liveProcess();
    const elsewhere = processIdentity(pid)!.replace(/^[^/]+/, '00000000-0000-0000-0000-000000000000');
    expect(ownerGone(run({ pid, identity: elsewhere, lease: LIVE_LEASE }), NOW)).toBe(false);
    expect(ownerGone(run({ pid, identity: elsewhere, lease: EXPIRED_LEASE }), NOW)).toBe(true);
    // pid 1 is alive in every pid space: it must not pass for an owner from another one.
    expect(ownerGone(run({ pid: 1, identity: elsewhere, lease: EXPIRED_LEASE }), NOW)).toBe(true);
  });

  it('on another machine: the lease decides', () => {
    expect(ownerGone(run({ host: 'other-host', pid: process.pid, identity: null, lease: LIVE_LEASE }), NOW)).toBe(false);
    expect(ownerGone(run({ host: 'other-host', pid: process.pid, identity: null, lease: EXPIRED_LEASE }), NOW)).toBe(true);
  });
});
