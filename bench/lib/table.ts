/**
 * The one table every bench prints: a figure, what it measured, its target, the comparison
 * measured in the same run, and how far the figure is from that comparison.
 */

export interface BenchRow {
  figure: string;
  value: number;
  unit: string;
  /** The target, and whether a higher value is better ('min') or a lower one ('max'). */
  target?: { bound: 'min' | 'max'; value: number };
  /** The floor or baseline measured in the same run, in the same unit. */
  comparison?: { label: string; value: number };
}

/** True when the row has a target and its value meets it. */
export function meets(row: BenchRow): boolean | undefined {
  if (!row.target) return undefined;
  return row.target.bound === 'min' ? row.value >= row.target.value : row.value <= row.target.value;
}

const num = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
};

/** Print `rows` under `title` as an aligned table; returns how many targets were met and set. */
export function printTable(title: string, rows: BenchRow[]): { met: number; total: number } {
  const header = ['figure', 'value', 'target', 'comparison (same run)', 'ratio', 'met'];
  const body = rows.map((r) => {
    const ok = meets(r);
    const target = r.target ? `${r.target.bound === 'min' ? '≥' : '≤'} ${num(r.target.value)} ${r.unit}` : '';
    const comparison = r.comparison ? `${r.comparison.label}: ${num(r.comparison.value)} ${r.unit}` : '';
    const ratio = r.comparison && r.comparison.value !== 0 ? `${num(r.value / r.comparison.value)} ×` : '';
    return [r.figure, `${num(r.value)} ${r.unit}`, target, comparison, ratio, ok === undefined ? '' : ok ? 'yes' : 'NO'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of body) console.log(line(r));
  const judged = rows.map(meets).filter((m) => m !== undefined);
  return { met: judged.filter(Boolean).length, total: judged.length };
}

/** The p-th percentile (0–100) of `sorted` (ascending). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
