// Pure: how old a kept plan reads in the apply confirmation. No DOM here.

/** "less than a minute", "1 minute", "45 minutes", "3 hours", "2 days": the largest whole unit. */
export function planAge(finishedAt: string | undefined, now: number): string {
  if (!finishedAt) return 'an unknown time';
  const minutes = Math.floor((now - Date.parse(finishedAt)) / 60_000);
  if (minutes < 1) return 'less than a minute';
  const [count, unit] =
    minutes < 60
      ? [minutes, 'minute']
      : minutes < 2880
        ? [Math.floor(minutes / 60), 'hour']
        : [Math.floor(minutes / 1440), 'day'];
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
