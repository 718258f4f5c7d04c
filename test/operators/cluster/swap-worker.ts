/**
 * A separate process for local-output.test.ts: `swap <target> <label> <count>` swaps
 * `count` new datasets into `target` (printing `waiting` when another process holds the
 * target's lock); `hold <target>` takes the target's lock and keeps it until it is killed
 * (printing `holding` once it has it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { swapIntoPlace } from '../../../src/operators/cluster/local-output.ts';
import { withPathLock } from '../../../src/operators/cluster/path-lock.ts';

const [mode, target, label, count] = process.argv.slice(2);
if (mode === 'hold') {
  await withPathLock(target!, () => {
    process.stdout.write('holding\n');
    // Until killed: the interval keeps the process alive, and the global keeps the promise —
    // and through it withPathLock's frame and its open lock — from being garbage-collected
    // (Node 22 collects a promise nothing refers to, and the lock's connection with it).
    const forever = new Promise<void>(() => setInterval(() => undefined, 60_000));
    (globalThis as { heldLock?: Promise<void> }).heldLock = forever;
    return forever;
  });
} else {
  for (let i = 0; i < Number(count); i++) {
    const staging = `${target}.tmp-${label}-${i}`;
    mkdirSync(staging, { recursive: true });
    // Two files with one content: a reader that ever sees two contents saw a mixed dataset.
    for (const part of ['part-0', 'part-1']) writeFileSync(join(staging, part), `${label}-${i}`);
    await swapIntoPlace(staging, target!, { onWait: () => process.stdout.write('waiting\n') });
  }
}
