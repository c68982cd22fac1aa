import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ModelConfigSchema, JobRequestSchema } from '@hotpath/contracts';
import { openAiDuration, rateLimitHeaders } from './rate-limit-error';
import { estimateRequestTokens } from './token-estimate';
import { usageWindow } from './usage-window';

describe('openAiDuration', () => {
  it('writes durations as OpenAI’s reset headers do', () => {
    assert.equal(openAiDuration(0), '0ms');
    assert.equal(openAiDuration(250.2), '251ms');
    assert.equal(openAiDuration(1000), '1s');
    assert.equal(openAiDuration(1500), '1.5s');
    assert.equal(openAiDuration(360_000), '6m0s');
    assert.equal(openAiDuration(3_723_000), '1h2m3s');
  });
});

describe('rateLimitHeaders', () => {
  it('sends headers only for the buckets a tenant has', () => {
    assert.deepEqual(
      rateLimitHeaders({
        allowed: true,
        retryAfterMs: 0,
        tokens: { limit: 100, remaining: 40, resetMs: 36_000 },
      }),
      {
        'x-ratelimit-limit-tokens': '100',
        'x-ratelimit-remaining-tokens': '40',
        'x-ratelimit-reset-tokens': '36s',
      },
    );
  });
});

describe('estimateRequestTokens', () => {
  const model = ModelConfigSchema.parse({ name: 'm', backend: 'sim', default_max_tokens: 64 });
  it('counts the prompt at 4 UTF-8 bytes per token plus max_tokens (or the model default)', () => {
    const gen = JobRequestSchema.parse({ model: 'm', task: 'generate', input: { prompt: 'x'.repeat(9) } });
    assert.equal(estimateRequestTokens(gen, model), 3 + 64);
    const capped = JobRequestSchema.parse({
      model: 'm',
      task: 'generate',
      input: { prompt: 'é' },
      params: { max_tokens: 5 },
    });
    assert.equal(estimateRequestTokens(capped, model), 1 + 5);
  });
  it('counts every text of an embed request', () => {
    const embed = JobRequestSchema.parse({ model: 'm', task: 'embed', input: { texts: ['abcd', 'abcde'] } });
    assert.equal(estimateRequestTokens(embed, model), 1 + 2);
  });
});

describe('usageWindow', () => {
  const now = Date.UTC(2026, 0, 2);
  it('defaults to the last day', () => {
    assert.deepEqual(usageWindow({}, now, 7 * 86400), { startMs: now - 86_400_000, endMs: now });
  });
  it('reads ISO 8601 and Unix seconds', () => {
    assert.deepEqual(
      usageWindow({ start: '2026-01-01T12:00:00Z', end: String(now / 1000) }, now, 7 * 86400),
      {
        startMs: Date.UTC(2026, 0, 1, 12),
        endMs: now,
      },
    );
  });
  it('refuses a reversed, unreadable or over-long window, naming the parameter', () => {
    assert.throws(
      () => usageWindow({ start: String(now / 1000), end: String(now / 1000 - 1) }, now, 3600),
      /before/,
    );
    assert.throws(() => usageWindow({ end: 'yesterday' }, now, 3600), /end must be/);
    assert.throws(() => usageWindow({ start: String(now / 1000 - 7200) }, now, 3600), /at most 3600 s/);
  });
});
