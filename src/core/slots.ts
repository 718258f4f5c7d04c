/** The process-wide parallelism cap, shared by all drivers. */
export interface SlotPool {
  tryTake(): boolean;
  take(): void;
  give(): void;
}

/** A SlotPool of `max` slots. */
export function createSlotPool(max: number): SlotPool {
  let used = 0;
  return {
    tryTake: () => (used < max ? (used++, true) : false),
    take: () => void used++,
    give: () => void (used = Math.max(0, used - 1)),
  };
}
