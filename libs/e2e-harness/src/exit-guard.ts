import { rmSync } from 'node:fs';
import { ManagedProcess, type ProcessSpec } from '@hotpath/process-kit';

/** Something that must not outlive this test process. */
export interface Reapable {
  killNow(): void;
}

const processes = new Set<Reapable>();
const dirs = new Set<string>();
let installed = false;

/**
 * Last line of defence against leaks: whatever way this test file's process ends (normal exit, a
 * runner timeout's SIGTERM, Ctrl-C), every child still alive is SIGKILLed and every temp folder
 * still registered is deleted. `after` hooks clean up gracefully first; this only catches what
 * they could not (a missing hook, a hook that timed out).
 */
function install(): void {
  if (installed) return;
  installed = true;
  const reap = (): void => {
    for (const p of processes) p.killNow();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  process.on('exit', reap);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      reap();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Kill `p` at process exit unless {@link releaseProcess} was called first. */
export function guardProcess(p: Reapable): void {
  install();
  processes.add(p);
}

export function releaseProcess(p: Reapable): void {
  processes.delete(p);
}

/** Delete `dir` at process exit unless {@link releaseDir} was called first. */
export function guardDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function releaseDir(dir: string): void {
  dirs.delete(dir);
}

/**
 * Starts a child owned by a test: it never keeps the test process alive (a file whose hook forgot
 * it still ends) and it is SIGKILLed at exit unless it has ended by then.
 */
export function startGuarded(spec: ProcessSpec): ManagedProcess {
  const p = ManagedProcess.start({ ...spec, unref: true });
  guardProcess(p);
  void p.exited.then(() => releaseProcess(p));
  return p;
}
