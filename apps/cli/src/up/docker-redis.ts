import { execFile } from 'node:child_process';
import type { ResolvedRedis } from './redis-resolver';

/** The slice of the `testcontainers` API used here (the package is optional and loaded lazily). */
interface StartedContainer {
  getHost(): string;
  getMappedPort(port: number): number;
  stop(): Promise<unknown>;
}
interface GenericContainerLike {
  withExposedPorts(...ports: number[]): GenericContainerLike;
  withCommand(command: string[]): GenericContainerLike;
  start(): Promise<StartedContainer>;
}
interface TestcontainersModule {
  GenericContainer: new (image: string) => GenericContainerLike;
}

/** The image `hotpath up` runs when it falls back to Docker. */
export const REDIS_IMAGE = 'redis:7-alpine';

/** `docker info` succeeds within a few seconds (the daemon is up and reachable). */
export function dockerAvailable(timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info'], { timeout: timeoutMs }, (err) => resolve(!err));
  });
}

/**
 * Starts a Redis container through `testcontainers`. The package is not a dependency of Hotpath: it
 * is imported only on this path, and when it is missing the caller is told how to add it.
 */
export async function startDockerRedis(): Promise<ResolvedRedis | { unavailable: string }> {
  // A variable specifier keeps TypeScript from requiring the optional package at build time.
  const pkg = 'testcontainers';
  let tc: TestcontainersModule;
  try {
    tc = (await import(pkg)) as TestcontainersModule;
  } catch {
    return {
      unavailable:
        'Docker is available but the optional "testcontainers" package is not installed ' +
        '(npm install --no-save testcontainers to let hotpath up start Redis in a container)',
    };
  }
  const container = await new tc.GenericContainer(REDIS_IMAGE)
    .withExposedPorts(6379)
    .withCommand(['redis-server', '--appendonly', 'yes', '--save', ''])
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return {
    url,
    source: 'docker',
    description: `Docker container ${REDIS_IMAGE} via testcontainers (removed on exit)`,
    stop: async () => {
      await container.stop();
    },
  };
}
