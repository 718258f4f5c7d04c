/**
 * Livy tracking: how soon orch's client sees a statement end, and how many requests it
 * spends per running statement, over statements of 0.1–30 s with and without progress —
 * against a server that offers orch's long poll (as `orch engine` does) and one that does
 * not (Livy). The comparison is the classic loop: a fixed 10 s poll that fetches the
 * statement and the whole log tail each time. Runs against a bench-only stand-in
 * (bench/lib/livy-standin.ts) that ends each statement after a set time, so the figures are
 * the client's own.
 *
 *   npx tsx bench/livy.ts [--quick]
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LivyClient } from '../src/integrations/livy/index.ts';
import { startStandIn } from './lib/livy-standin.ts';
import { percentile, printTable, type BenchRow } from './lib/table.ts';

interface Tracked {
  /** ms from the statement's end to the client seeing it. */
  seenAfterMs: number;
  /** Requests about the statement and its session, and the ms from its start until its end was seen. */
  requests: number;
  trackedMs: number;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

function tracked(s: { startedAt: number; endedAt?: number; requests: number }, seenAt: number): Tracked {
  return { seenAfterMs: seenAt - s.endedAt!, requests: s.requests, trackedMs: seenAt - s.startedAt };
}

/** Follow every statement with orch's client; `longPoll`: the server offers orch's wait. */
async function orchClient(durations: number[], longPoll: boolean): Promise<Tracked[]> {
  const server = await startStandIn({ longPoll });
  const client = new LivyClient({ url: server.url });
  try {
    return await Promise.all(
      durations.flatMap((ms) =>
        [true, false].map(async (withProgress) => {
          const id = server.start(ms, withProgress);
          await client.waitForStatement(id, 0, { logs: client.logReader('sessions', id), onLog: () => {} });
          return tracked(server.statement(id), performance.now());
        }),
      ),
    );
  } finally {
    await client.close();
    await server.close();
  }
}

/** The classic loop: every 10 s, the statement and the log's last 100 lines, until it ends. */
async function classicLoop(durations: number[]): Promise<Tracked[]> {
  const server = await startStandIn({ longPoll: false });
  try {
    return await Promise.all(
      durations.map(async (ms) => {
        const id = server.start(ms, false);
        for (;;) {
          await sleep(10_000);
          const statement = (await (await fetch(`${server.url}/sessions/${id}/statements/0`)).json()) as { state: string };
          await (await fetch(`${server.url}/sessions/${id}/log`)).json();
          if (statement.state === 'available') break;
        }
        return tracked(server.statement(id), performance.now());
      }),
    );
  } finally {
    await server.close();
  }
}

/** Run the Livy tracking bench and print its table; returns how many targets were met. */
export async function benchLivy(quick: boolean): Promise<{ met: number; total: number }> {
  const durations = quick ? [100, 300, 1_000, 2_000, 3_000] : [100, 300, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000];
  const [engine, livy, classic] = await Promise.all([orchClient(durations, true), orchClient(durations, false), classicLoop(durations)]);
  const seen = (t: Tracked[]) => sorted(t.map((x) => x.seenAfterMs));
  // Requests per second of tracking, over all statements: the load a running statement puts on the server.
  const rate = (t: Tracked[]) => t.reduce((n, x) => n + x.requests, 0) / (t.reduce((n, x) => n + x.trackedMs, 0) / 1000);
  const span = `${durations[0]! / 1000}–${durations.at(-1)! / 1000} s`;
  const rows: BenchRow[] = [
    { figure: `end seen after, p50 — orch engine (long poll), ${span}`, value: percentile(seen(engine), 50), unit: 'ms', target: { bound: 'max', value: 200 }, comparison: { label: 'classic 10 s poll', value: percentile(seen(classic), 50) } },
    { figure: `end seen after, p99 — orch engine (long poll)`, value: percentile(seen(engine), 99), unit: 'ms', target: { bound: 'max', value: 1000 }, comparison: { label: 'classic 10 s poll', value: percentile(seen(classic), 99) } },
    { figure: `requests/s per running statement — orch engine`, value: rate(engine), unit: 'req/s', target: { bound: 'max', value: 2 }, comparison: { label: 'classic 10 s poll', value: rate(classic) } },
    { figure: `end seen after, p50 — Livy (adaptive poll)`, value: percentile(seen(livy), 50), unit: 'ms', target: { bound: 'max', value: 200 }, comparison: { label: 'classic 10 s poll', value: percentile(seen(classic), 50) } },
    { figure: `end seen after, p99 — Livy (adaptive poll)`, value: percentile(seen(livy), 99), unit: 'ms', target: { bound: 'max', value: 1000 }, comparison: { label: 'classic 10 s poll', value: percentile(seen(classic), 99) } },
    { figure: `requests/s per running statement — Livy`, value: rate(livy), unit: 'req/s', target: { bound: 'max', value: 2 }, comparison: { label: 'classic 10 s poll', value: rate(classic) } },
  ];
  return printTable(`Livy tracking: ${durations.length * 2} statements of ${span}, half with progress`, rows);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchLivy(process.argv.includes('--quick'));
