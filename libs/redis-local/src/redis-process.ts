import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';

/** Sends one inline command over a raw socket and resolves with the first reply chunk ('' on failure). */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let got = '';
    const done = (): void => {
      s.destroy();
      resolve(got);
    };
    s.setTimeout(timeoutMs, done);
    s.on('error', done);
    s.on('connect', () => s.write(`${command}\r\n`));
    s.on('data', (d) => {
      got += d.toString();
      // A bulk reply ($<len>) may come in several chunks: wait for its announced length.
      const m = /^\$(\d+)\r\n/.exec(got);
      if (!m || got.length >= m[0].length + Number(m[1]) + 2) done();
    });
  });
}

/** Polls `check` every 50 ms until it is true, or throws after `timeoutMs` naming `what`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A `redis-server` child (plain, cluster node or sentinel): its last output kept for error messages. */
export class RedisProcess {
  private readonly child: ChildProcess;
  private output = '';
  private exitedFlag = false;
  readonly exited: Promise<void>;

  constructor(
    readonly port: number,
    args: readonly string[],
    cwd: string,
  ) {
    this.child = spawn('redis-server', [...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-16_384);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => {
        this.exitedFlag = true;
        resolve();
      });
      this.child.once('error', (err) => {
        this.output += `\nspawn error: ${err.message}`;
        this.exitedFlag = true;
        resolve();
      });
    });
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  logs(): string {
    return this.output;
  }

  /** Resolves once it answers PING (+PONG); throws with its output if it dies or takes too long. */
  async ready(timeoutMs = 10_000): Promise<void> {
    await until(
      async () => {
        if (!this.running) throw new Error(`redis-server on port ${this.port} exited:\n${this.output}`);
        return (await rawCommand(this.port, 'PING', 500)).startsWith('+PONG');
      },
      timeoutMs,
      `redis-server on port ${this.port}`,
    );
  }

  /** SIGKILL: the abrupt death a failover test needs. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (Redis shuts down cleanly), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
