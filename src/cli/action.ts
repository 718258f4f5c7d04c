/** Commander ignores what actions return; this keeps the exit code an action chose. */
let chosen = 0;

/** Wrap an action so that the number it returns becomes the process exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await fn(...args);
    if (typeof code === 'number') chosen = code;
  };
}

export function takeExitCode(): number {
  const c = chosen;
  chosen = 0;
  return c;
}
