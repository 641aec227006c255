// The benchmark's summaries of its samples: one definition of each, so every part reports alike.

/** The nearest-rank quantile `q` (0 to 1) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export const stats = (values: readonly number[]) => ({
  min: quantile(values, 0),
  median: quantile(values, 0.5),
  p95: quantile(values, 0.95),
});

export const round1 = (value: number) => Math.round(value * 10) / 10;

/** Median and interquartile range, rounded to `digits` decimals (ratios to 0.01, times to 0.1). */
export function spread(values: readonly number[], digits = 2) {
  const round = (value: number) => Math.round(value * 10 ** digits) / 10 ** digits;
  return {
    median: round(quantile(values, 0.5)),
    iqr: [round(quantile(values, 0.25)), round(quantile(values, 0.75))],
  };
}
