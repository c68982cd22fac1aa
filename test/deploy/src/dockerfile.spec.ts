import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './repo-root';

const ROOT = repoRoot();

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (continuations joined, comments dropped, ARGs resolved). */
function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(current + line);
    current = '';
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines.filter((l) => l !== '')) {
    const [op = '', ...rest] = line.split(/\s+/);
    const argsText = rest.join(' ').replace(/\$\{(\w+)\}/g, (_, v: string) => args.get(v) ?? `\${${v}}`);
    const upper = op.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k, v] = argsText.split('=');
      if (k && v !== undefined) args.set(k, v);
      continue;
    }
    if (upper === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(argsText);
      assert.ok(m?.[1], `bad FROM ${argsText}`);
      stages.push({ from: m[1], name: m[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    assert.ok(stage, `${op} before FROM`);
    stage.instructions.push({ op: upper, args: argsText });
  }
  return stages;
}

const IMAGES = [
  { file: 'api.Dockerfile', main: 'apps/api/dist/main.js', gpu: false },
  { file: 'worker.Dockerfile', main: 'apps/worker/dist/main.js', gpu: false },
  { file: 'worker-gpu.Dockerfile', main: 'apps/worker/dist/main.js', gpu: true },
] as const;

for (const image of IMAGES) {
  describe(`deploy/docker/${image.file}`, () => {
    const text = readFileSync(join(ROOT, 'deploy', 'docker', image.file), 'utf8');
    const stages = parseDockerfile(text);
    const names = new Set(stages.map((s) => s.name).filter((n) => n !== undefined));
    const final = stages.at(-1);
    assert.ok(final);
    const run = (s: Stage) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);

    it('is multi-stage and pins every base image to an exact version', () => {
      assert.ok(stages.length >= 3);
      for (const s of stages) {
        if (names.has(s.from)) continue;
        assert.match(s.from, /^[\w./-]+:\d+\.\d+\.\d+[\w.-]*$/, `FROM ${s.from} is not an exact version tag`);
        if (s.from.startsWith('node:'))
          assert.match(s.from, /^node:24\.\d+\.\d+-bookworm-slim$/, 'Node 24 LTS slim');
      }
    });

    it('builds on the right runtime base', () => {
      if (image.gpu) assert.match(final.from, /^nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-/);
      else assert.match(final.from, /^node:24\./);
    });

    it('runs as a non-root user', () => {
      const users = final.instructions.filter((i) => i.op === 'USER').map((i) => i.args);
      const user = users.at(-1);
      assert.ok(user, 'USER in the final stage');
      assert.doesNotMatch(user, /^(root|0)(:|$)/);
    });

    it('ships production dependencies only, installed by npm ci --omit=dev', () => {
      assert.doesNotMatch(text, /npm (install|i) /, 'npm ci, never npm install');
      const prod = (s: Stage) => run(s).some((r) => /\bnpm ci\b.*--omit=dev/.test(r));
      const copiesFrom = final.instructions
        .filter((i) => i.op === 'COPY')
        .map((i) => /--from=(\S+)/.exec(i.args)?.[1])
        .filter((n) => n !== undefined);
      const sources = stages.filter((s) => s.name && copiesFrom.includes(s.name));
      assert.ok(prod(final) || sources.some(prod), 'node_modules come from an npm ci --omit=dev');
      // The stage that runs tsc (dev dependencies) hands over compiled output, never its node_modules.
      for (const i of final.instructions.filter((x) => x.op === 'COPY' && x.args.includes('--from=build'))) {
        assert.doesNotMatch(i.args, /node_modules|\s\/app\/\s/, `COPY ${i.args}`);
      }
    });

    it('has the CUDA switch only in the GPU image', () => {
      const has = /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(text);
      assert.equal(has, image.gpu);
      if (image.gpu) {
        assert.ok(
          stages.some((s) =>
            run(s).some((r) =>
              /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/.test(r),
            ),
          ),
          'runs the onnxruntime-node installer explicitly',
        );
      }
    });

    it('runs tini as PID 1, the compiled entry point, and a HEALTHCHECK on /healthz', () => {
      const entry = final.instructions.find((i) => i.op === 'ENTRYPOINT');
      assert.match(entry?.args ?? '', /tini/);
      const cmd = final.instructions.find((i) => i.op === 'CMD');
      assert.ok(cmd?.args.includes(image.main), `CMD runs ${image.main}`);
      const health = final.instructions.find((i) => i.op === 'HEALTHCHECK');
      assert.match(health?.args ?? '', /\/healthz/);
    });
  });
}

describe('.dockerignore', () => {
  const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps dependencies, build output and VCS data out of the build context', () => {
    for (const entry of ['**/node_modules', '**/dist', '.git']) assert.ok(lines.includes(entry), entry);
  });

  it('keeps every workspace package.json, so npm ci matches the lockfile', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const ws of pkg.workspaces) {
      const top = ws.split('/')[0] ?? ws;
      if (!lines.includes(top) && !lines.includes(`${top}/**`)) continue;
      assert.ok(lines.includes(`!${ws}/package.json`), `${ws}/package.json is re-included`);
    }
  });
});
