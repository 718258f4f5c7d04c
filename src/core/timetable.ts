/**
 * Cron schedules as data intervals, the way Airflow users know them: the run for the
 * interval [start, end) is created once `end` has passed, with logical date = start.
 */
import { Cron } from 'croner';

export interface DataInterval {
  start: Date;
  end: Date;
}

/** Parse a schedule (cron or preset), evaluated in UTC. */
function cronFor(schedule: string): Cron {
  return new Cron(schedule, { paused: true, timezone: 'UTC' });
}

/** The first fire time at or after `date`. */
function alignUp(cron: Cron, date: Date): Date | null {
  return cron.nextRun(new Date(date.getTime() - 1));
}

/**
 * Intervals due at `now`, oldest first. `after` is the end of the latest interval that
 * already has a run (or undefined). With catchup off, only the most recent due interval.
 */
export function dueIntervals(
  schedule: string,
  startDate: Date,
  catchup: boolean,
  after: Date | undefined,
  now: Date,
  limit = 1000,
): DataInterval[] {
  const cron = cronFor(schedule);
  const first = alignUp(cron, startDate);
  if (!first) return [];
  if (!catchup) {
    // Only the most recent complete interval, found near `now` so an old startDate costs nothing.
    const end = latestFireAtOrBefore(cron, now, first);
    const start = end && previousFire(cron, end, first);
    if (!end || !start || (after && start < after)) return [];
    return [{ start, end }];
  }
  const out: DataInterval[] = [];
  let start: Date | null = after && after > first ? alignUp(cron, after) : first;
  while (start && out.length < limit) {
    const end = cron.nextRun(start);
    if (!end || end > now) break;
    out.push({ start, end });
    start = end;
  }
  return out;
}

/**
 * When the scheduler creates the DAG's next scheduled run: the end of the first interval
 * after the latest one with a run (or after `startDate`); `now` when one is due already.
 */
export function nextRunAt(schedule: string, startDate: Date, catchup: boolean, after: Date | undefined, now: Date): Date | null {
  if (dueIntervals(schedule, startDate, catchup, after, now, 1).length) return now;
  const cron = cronFor(schedule);
  const first = alignUp(cron, startDate);
  if (!first) return null;
  const from = after && after > first ? after : first;
  return cron.nextRun(from > now ? from : now);
}

/** The latest fire time <= now, searching back from now in growing windows; null if none after `floor`. */
function latestFireAtOrBefore(cron: Cron, now: Date, floor: Date): Date | null {
  for (let windowMs = 3_600_000; ; windowMs *= 4) {
    const from = new Date(Math.max(floor.getTime(), now.getTime() - windowMs));
    let t = alignUp(cron, from);
    if (t && t <= now) {
      let next = cron.nextRun(t);
      while (next && next <= now) {
        t = next;
        next = cron.nextRun(t);
      }
      return t;
    }
    if (from.getTime() === floor.getTime()) return null;
  }
}

/** The fire time just before `t`, not earlier than `floor`. */
function previousFire(cron: Cron, t: Date, floor: Date): Date | null {
  for (let windowMs = 3_600_000; ; windowMs *= 4) {
    const from = new Date(Math.max(floor.getTime(), t.getTime() - windowMs));
    let p = alignUp(cron, from);
    if (p && p < t) {
      let next = cron.nextRun(p);
      while (next && next < t) {
        p = next;
        next = cron.nextRun(p);
      }
      return p;
    }
    if (from.getTime() === floor.getTime()) return null;
  }
}
