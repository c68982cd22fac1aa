import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { shardQueueKey } from '@hotpath/contracts';
import { AdmissionGate } from './admission-gate';
import { jobEventsKey } from './job-event-stream';
import { jobRecordKey } from './job-store';
import { chatTemplateKey } from './model-chat-templates';
import { inputLimitsKey } from './model-input-limits';
import {
  CrossSlotError,
  assertSameSlot,
  groupBySlot,
  hashTagOf,
  keySlot,
  sameSlot,
  taggedKey,
} from './redis-slots';
import { laneKeys } from './shard-lane';
import { webhookSecretKey } from './webhook-secrets';

/** BullMQ's keys of one queue (the suffixes its Lua scripts touch together). */
const BULLMQ_SUFFIXES = [
  'wait',
  'paused',
  'meta',
  'id',
  'delayed',
  'prioritized',
  'pc',
  'marker',
  'events',
  'active',
  'stalled',
  'stalled-check',
  'completed',
  'failed',
  'limiter',
  'de:x',
  'some-job-id',
  'some-job-id:lock',
];

describe('Redis Cluster slots', () => {
  it('computes the slot Redis computes (CLUSTER KEYSLOT), hash tags included', () => {
    // Reference values from `CLUSTER KEYSLOT` on redis-server 7.
    assert.equal(keySlot('foo'), 12182);
    assert.equal(keySlot('bar'), 5061);
    assert.equal(keySlot('hp:{tiny:0}:wait'), 4993);
    assert.equal(keySlot('hp:job:2c1f9a0e-1111-4a4a-8b8b-123456789abc'), 13355);
    assert.equal(keySlot('{}x'), 10595, 'an empty tag hashes the whole key');
    assert.equal(keySlot('a{b}c{d}'), 3300, 'only the first tag counts');
    assert.equal(keySlot('é{ü}'), 9552, 'UTF-8 bytes');
    assert.equal(hashTagOf('hp:{m:x}:e:1'), 'm:x');
    assert.equal(taggedKey('tenant', 'acme', 'bucket'), 'hp:tenant:{acme}:bucket');
  });

  it('groups keys by slot and refuses cross-slot key sets', () => {
    assert.ok(sameSlot([]));
    assert.ok(sameSlot(['hp:{a}:1', 'x{a}y']));
    assert.throws(() => assertSameSlot('test', ['hp:{a}:1', 'hp:{b}:1']), CrossSlotError);
    const groups = groupBySlot(['{a}1', '{b}1', '{a}2'], (k) => k);
    assert.deepEqual([...groups.values()], [['{a}1', '{a}2'], ['{b}1']]);
  });

  it('keeps every multi-key operation of Hotpath inside one slot', () => {
    for (const [model, shard] of [
      ['tiny', 0],
      ['sim-gen-1a2b', 7],
    ] as const) {
      // BullMQ's scripts (add, move to active/finished, stalled check) over one shard queue.
      assertSameSlot(
        'bullmq',
        BULLMQ_SUFFIXES.map((s) => shardQueueKey(model, shard, s)),
      );
      // The direct lane's scripts (add reads BullMQ's wait and prioritized; fair counts read the lane).
      const lane = laneKeys(model, shard);
      assertSameSlot('lane', [
        lane.ready,
        lane.data,
        lane.leased,
        lane.minutes,
        lane.failed,
        shardQueueKey(model, shard, 'wait'),
        shardQueueKey(model, shard, 'prioritized'),
        shardQueueKey(model, shard, 'fq:transit'),
      ]);
      // The admission script over the target shard (and, on one Redis, every shard at once).
      assertSameSlot('admission', [
        AdmissionGate.key(model, shard),
        ...AdmissionGate.shardKeys(model, shard),
      ]);
      // A shard's event streams share the queue's slot: one XREAD per shard, one pipeline per shard.
      assertSameSlot('events', [
        shardQueueKey(model, shard, 'wait'),
        jobEventsKey({ id: 'a', model, shard }),
        jobEventsKey({ id: 'b', model, shard }),
      ]);
      // Model metadata read together (digest, chat template, input limits; the cache's {m:} tag).
      assertSameSlot('model', [
        chatTemplateKey(model),
        inputLimitsKey(model),
        `hp:model:{m:${model}}:digest`,
      ]);
    }
    // Webhook deliveries, their secrets and dead letters (MULTI over hash + index).
    assertSameSlot('webhooks', [
      'hp:{webhooks}:wait',
      'hp:{webhooks}:dead',
      'hp:{webhooks}:dead:index',
      webhookSecretKey('job-1'),
    ]);
    // Single-key scripts need nothing, but the record must not collide with its shard's tag.
    assert.equal(hashTagOf(jobRecordKey('id-1')), jobRecordKey('id-1'));
  });
});
