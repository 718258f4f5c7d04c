/** The forms a DuckDB memory limit takes in orch: a size DuckDB understands, or a share of the machine. */

export const MEMORY_LIMIT_FORMS = "a size such as '2GB' or '512MiB' (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB) or a share of the machine such as '25%'";

/** The sizes DuckDB's memory_limit takes (its unit words included). */
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(b|bytes?|k|kb|kilobytes?|kib|m|mb|megabytes?|mib|g|gb|gigabytes?|gib|t|tb|terabytes?|tib)\s*$/i;
const SHARE = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/** Why `value` is not a memory limit, or undefined when it is one. */
export function memoryLimitProblem(value: string): string | undefined {
  const size = SIZE.exec(value);
  if (size) return Number(size[1]) > 0 ? undefined : `a size must be above zero, got '${value}'`;
  const share = SHARE.exec(value);
  if (share) {
    const n = Number(share[1]);
    return n > 0 && n <= 100 ? undefined : `a share of the machine's memory must be above 0% and at most 100%, got '${value}'`;
  }
  return `it must be ${MEMORY_LIMIT_FORMS}, got '${value}'`;
}
