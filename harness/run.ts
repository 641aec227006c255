import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; a non-zero exit rejects with its output, so failures name their cause. */
export function run(file: string, args: string[], options: { input?: string; cwd?: string } = {}) {
  return new Promise<RunResult>((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stderr}${stdout}`));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export async function which(program: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${program}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}
