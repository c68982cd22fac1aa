import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HotpathError, eventFlushMaxMs } from '@hotpath/contracts';
import { findModel, loadClusterConfig, parseClusterConfig } from './cluster-config.loader';
import { parseEnv, commonEnvShape } from './env';
import { z } from 'zod';

function writeTmp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hp-cfg-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('deprecated batching keys', () => {
  const model = (name: string, batching: Record<string, unknown>, variants: unknown[] = []) => ({
    name,
    backend: 'sim',
    batching,
    variants,
  });

  it('maps the flat keys to batching.micro and batching.continuous, new keys winning', () => {
    const config = parseClusterConfig(
      {
        models: [
          model('a', { max_batch_size: 8, max_queue_delay_ms: 2, prefill_chunk_tokens: 64 }),
          model('b', { max_batch_size: 8, micro: { max_batch_size: 32 } }, [
            { name: 'v', batching: { max_queue_delay_ms: 9 } },
          ]),
        ],
      },
      'test',
      '/',
    );
    const a = findModel(config, 'a');
    assert.deepEqual(a?.batching.micro, { max_batch_size: 8, max_queue_delay_ms: 2 });
    assert.equal(a?.batching.continuous.max_running_sequences, 8);
    assert.equal(a?.batching.continuous.prefill_chunk_tokens, 64);
    const b = findModel(config, 'b');
    assert.equal(b?.batching.micro.max_batch_size, 32, 'the new key wins');
    assert.equal(b?.batching.continuous.max_running_sequences, 8);
    assert.equal(findModel(config, 'b', 'v')?.batching.micro.max_queue_delay_ms, 9, 'variants too');
  });

  it('warns once per deprecated key, naming the new key and the models using it', () => {
    const lines: string[] = [];
    parseClusterConfig(
      {
        models: [
          model('a', { max_batch_size: 8, max_queue_delay_ms: 2 }),
          model('b', { max_batch_size: 4 }, [{ name: 'v', batching: { prefill_chunk_tokens: 32 } }]),
          model('c', { micro: { max_batch_size: 4 } }),
        ],
      },
      'test',
      '/',
      (line) => lines.push(line),
    );
    assert.equal(lines.length, 3);
    assert.match(
      lines[0] ?? '',
      /batching\.max_batch_size is deprecated; use batching\.micro\.max_batch_size and batching\.continuous\.max_running_sequences \(models: a, b\)/,
    );
    assert.match(
      lines[1] ?? '',
      /batching\.max_queue_delay_ms .*batching\.micro\.max_queue_delay_ms \(models: a\)/,
    );
    assert.match(
      lines[2] ?? '',
      /batching\.prefill_chunk_tokens .*batching\.continuous\.prefill_chunk_tokens \(models: b@v\)/,
    );
  });

  it('still rejects unknown batching keys with their path', () => {
    assert.throws(
      () => parseClusterConfig({ models: [model('a', { max_batch: 8 })] }, 'test', '/'),
      (err: HotpathError) => err.code === 'invalid_config' && /models\.0\.batching/.test(err.message),
    );
  });
});

describe('loadClusterConfig', () => {
  it('serves the built-in default with sim when no file is given', () => {
    const { config, source } = loadClusterConfig(undefined);
    assert.equal(source, 'built-in');
    const sim = findModel(config, 'sim');
    assert.equal(sim?.backend, 'sim');
    assert.equal(config.queue.attempts, 3);
    assert.equal(sim?.batching.micro.max_batch_size, 16);
    assert.equal(
      findModel(config, 'tiny')?.path,
      join(process.cwd(), 'models/tiny'),
      'forged models live in the data dir',
    );
    assert.equal(findModel(config, 'tiny-embed')?.forge?.arch, 'bert');
  });

  it('reads YAML, fills defaults and resolves model paths against the file', () => {
    const file = writeTmp(
      'c.yaml',
      'models:\n  - name: tiny\n    backend: onnx\n    path: models/tiny\n    shards: 4\nqueue:\n  attempts: 5\n',
    );
    const { config } = loadClusterConfig(file);
    const tiny = findModel(config, 'tiny');
    assert.equal(tiny?.shards, 4);
    assert.equal(tiny?.path, join(file, '..', 'models/tiny'));
    assert.equal(config.queue.attempts, 5);
    assert.equal(config.queue.lock_duration_ms, 30_000);
  });

  it('lists every bad field with its path', () => {
    const file = writeTmp(
      'bad.yaml',
      'models:\n  - name: Bad Name\n    backend: gpu\n  - name: ok\n    backend: onnx\n    shards: 0\nqueue:\n  attemps: 2\n',
    );
    assert.throws(
      () => loadClusterConfig(file),
      (e: unknown) => {
        assert.ok(e instanceof HotpathError);
        assert.equal(e.code, 'invalid_config');
        for (const field of ['models.0.name', 'models.0.backend', 'models.1.shards', 'queue']) {
          assert.ok(e.message.includes(field), `message should name ${field}:\n${e.message}`);
        }
        return true;
      },
    );
  });

  it('rejects an event flush maximum below the event flush interval, naming the field', () => {
    const file = writeTmp(
      'flush.yaml',
      'models:\n  - {name: a, backend: sim}\nqueue:\n  event_flush_ms: 20\n  event_flush_max_ms: 10\n',
    );
    assert.throws(
      () => loadClusterConfig(file),
      (e: unknown) =>
        e instanceof HotpathError &&
        e.code === 'invalid_config' &&
        /queue\.event_flush_max_ms/.test(e.message) &&
        /at least event_flush_ms/.test(e.message),
    );
    // Unset, the bound follows a larger interval instead of refusing it.
    const slow = writeTmp(
      'flush-slow.yaml',
      'models:\n  - {name: a, backend: sim}\nqueue:\n  event_flush_ms: 100\n',
    );
    assert.equal(eventFlushMaxMs(loadClusterConfig(slow).config.queue), 100);
    const plain = writeTmp('flush-default.yaml', 'models:\n  - {name: a, backend: sim}\n');
    assert.equal(eventFlushMaxMs(loadClusterConfig(plain).config.queue), 50);
  });

  it('rejects duplicate model names', () => {
    const file = writeTmp('dup.yaml', 'models:\n  - {name: a, backend: sim}\n  - {name: a, backend: sim}\n');
    assert.throws(() => loadClusterConfig(file), /duplicate model name "a"/);
  });

  it('reports YAML syntax errors and missing files precisely', () => {
    assert.throws(() => loadClusterConfig(writeTmp('x.yaml', 'models: [\n')), /not valid YAML/);
    assert.throws(() => loadClusterConfig('/nonexistent/hotpath.yaml'), /cannot read cluster config/);
  });
});

describe('parseEnv', () => {
  const schema = z.object(commonEnvShape);

  it('parses and defaults', () => {
    const env = parseEnv(schema, { REDIS_URL: 'redis://localhost:6379' });
    assert.equal(env.HOTPATH_RESULT_TTL_S, 3600);
    assert.equal(env.HOTPATH_TRACE_CONTENT, false);
  });

  it('names every bad variable', () => {
    assert.throws(
      () =>
        parseEnv(schema, {
          REDIS_URL: 'http://x',
          HOTPATH_RESULT_TTL_S: 'soon',
          HOTPATH_TRACE_CONTENT: 'maybe',
        }),
      (e: unknown) =>
        e instanceof HotpathError &&
        ['REDIS_URL', 'HOTPATH_RESULT_TTL_S', 'HOTPATH_TRACE_CONTENT'].every((v) => e.message.includes(v)),
    );
  });
});
