import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from './run';

const LAUNCHER_DIR = join(__dirname, 'mongo-launcher');
const LAUNCHER_JAR = join(LAUNCHER_DIR, 'target', 'mongo-launcher-1.0.0.jar');
const CLASSPATH = `${LAUNCHER_JAR}:${join(LAUNCHER_DIR, 'target', 'lib', '*')}`;
const INSTALL_HINT =
  'set MONGODB_URI to a MongoDB server, or install a JDK (17+) and Maven so the embedded MongoDB-wire server can run';

/**
 * Builds the Java launcher (Maven fetches mongo-java-server) when its jar is missing or older than its
 * sources; later calls find the jar and return.
 */
export async function buildMongoLauncher(): Promise<void> {
  if (existsSync(LAUNCHER_JAR) && existsSync(join(LAUNCHER_DIR, 'target', 'lib')) && !sourcesChanged())
    return;
  if (!(await which('mvn'))) throw new Error(`Maven (mvn) was not found: ${INSTALL_HINT}`);
  await run('mvn', ['-q', '-B', 'package'], { cwd: LAUNCHER_DIR });
}

function sourcesChanged(): boolean {
  const built = statSync(LAUNCHER_JAR).mtimeMs;
  const sources = [join(LAUNCHER_DIR, 'pom.xml'), ...javaFiles(join(LAUNCHER_DIR, 'src'))];
  return sources.some((file) => statSync(file).mtimeMs > built);
}

function javaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? javaFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** mongo-java-server's in-memory backend in a child JVM, bound to a free loopback port. */
export class EmbeddedMongo {
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly uri: string,
    readonly description: string,
  ) {
    child.once('exit', () => {
      this.exited = true;
    });
  }

  static async start(port = 0): Promise<EmbeddedMongo> {
    if (!(await which('java'))) throw new Error(`java was not found: ${INSTALL_HINT}`);
    await buildMongoLauncher();
    const child = spawn(
      'java',
      ['-Xss512k', '-XX:+UseSerialGC', '-cp', CLASSPATH, 'dev.abacsync.mongo.Launcher', String(port)],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const ready = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`the MongoDB-wire server did not start:\n${output}`)),
        30_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((candidate) => candidate.startsWith('READY '));
        if (line) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(line.slice('READY '.length).trim());
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the MongoDB-wire server exited with ${code}: ${output}`));
      });
    });
    child.stdout?.resume();
    const [uri = '', ...rest] = ready.split(' ');
    return new EmbeddedMongo(child, uri, rest.join(' '));
  }

  get pid(): number {
    if (!this.child.pid) throw new Error('the MongoDB-wire server has no pid');
    return this.child.pid;
  }

  get port(): number {
    return Number(new URL(this.uri).port);
  }

  /** Kills the JVM at once (a crash, for fault tests) and resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Closing stdin asks the launcher to stop; SIGKILL follows if it does not within five seconds. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
