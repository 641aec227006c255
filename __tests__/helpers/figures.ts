/**
 * Prints a measured figure on stderr, outside jest's console capture, as `[figure] name: value` so the
 * reliability section of docs/operations.md can quote the latest run.
 */
export function reportFigure(name: string, value: string | number): void {
  process.stderr.write(`[figure] ${name}: ${value}\n`);
}
