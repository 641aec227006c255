// Pure: what the progress bar shows from two readings of a run. No DOM here.

export interface RunReading {
  state: string;
  phase?: string;
  /** `total` is absent until the run has counted it. */
  progress: { total?: number; processed: number };
  /** When it was read (ms). */
  at: number;
}

export interface ProgressView {
  percent: number;
  label: string;
  rate?: number;
  etaSeconds?: number;
}

export function progressView(previous: RunReading | undefined, current: RunReading): ProgressView {
  const { total, processed } = current.progress;
  if (current.state === 'queued') return { percent: 0, label: 'Queued' };
  if (total === undefined)
    return {
      percent: 0,
      label: current.state === 'running' ? 'Counting the users…' : 'Ended before its users were counted',
    };
  const ended = !['queued', 'running'].includes(current.state);
  const percent =
    ended && current.state === 'completed' ? 100 : total > 0 ? Math.floor((processed / total) * 100) : 0;
  const samePhase = previous && previous.phase === current.phase && current.at > previous.at;
  const rate = samePhase
    ? ((processed - previous.progress.processed) * 1000) / (current.at - previous.at)
    : undefined;
  const etaSeconds = rate && rate > 0 && !ended ? Math.ceil((total - processed) / rate) : undefined;
  const what = current.phase === 'applying' ? 'changes applied' : 'users planned';
  const label = `${current.phase ?? 'planning'}: ${processed.toLocaleString('en')} of ${total.toLocaleString('en')} ${what}`;
  return {
    percent,
    label,
    ...(rate !== undefined ? { rate: Math.round(rate) } : {}),
    ...(etaSeconds !== undefined ? { etaSeconds } : {}),
  };
}
