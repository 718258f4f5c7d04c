/**
 * The embedded engines `orch tasks test` left running. It records nothing, so no terminate
 * task and no reaper can find them; the processes themselves (their `--home` under
 * `<ORCH_HOME>/engines/`, named after the test run) are the only record.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';

/** The run id `orch tasks test` gives its one-task run; engines it starts carry it in their folder's name. */
export const TEST_RUN_PREFIX = 'test__';

export interface TestEngine {
  pid: number;
  clusterId: string;
}

/** Live `orch engine` processes a tasks test started under `home`; undefined where there is no /proc to look in. */
export function testEnginesLeft(home: string): TestEngine[] | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const engines = join(home, 'engines') + sep;
  const found: TestEngine[] = [];
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const at = argv.indexOf('--home');
    const dir = at >= 0 ? argv[at + 1] : undefined;
    if (!argv.includes('engine') || !dir?.startsWith(engines)) continue;
    const clusterId = dir.slice(engines.length);
    if (clusterId.includes(`-${TEST_RUN_PREFIX}`)) found.push({ pid: Number(pid), clusterId });
  }
  return found;
}
