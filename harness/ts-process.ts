import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface TsProcess {
  child: ChildProcess;
  /** The stdout line that said the process was ready, matched against `ready`. */
  readyLine: RegExpExecArray;
  exited: Promise<void>;
}

export interface TsProcessOptions {
  env: NodeJS.ProcessEnv;
  /** The process is ready once it prints a stdout line matching this. */
  ready: RegExp;
  onStderrLine?: (line: string) => void;
}

/**
 * Runs a TypeScript entry point in a Node process of its own (tsx: transpiled, not type-checked) and resolves once it
 * prints its ready line; rejects with the end of its stderr if it exits first. Stdin stays open as a pipe, so
 * a process that stops when stdin ends (`child.stdin.end()`) can be asked to stop.
 */
export async function startTsProcess(entry: string, options: TsProcessOptions): Promise<TsProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderrTail = '';
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail = `${stderrTail}${line}\n`.slice(-4000);
    options.onStderrLine?.(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readyLine = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${entry} exited (${code}) before it was ready: ${stderrTail}`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = options.ready.exec(line);
      if (match) resolve(match);
    });
  });
  return { child, readyLine, exited };
}
