/**
 * The Lua of a shard's direct lane (see shard-lane.ts). Every key is under the shard's hash tag
 * `hp:{model:shard}:`, so each script runs in one slot of a Redis Cluster. Keys: `lane:ready` (a
 * sorted set of job ids, scored priority class × 1e13 + enqueue time in ms, 0 × 1e13 for a job
 * that goes ahead of all), `lane:data` (id → payload, for ready and leased jobs) and `lane:leased`
 * (id → the lease's deadline in ms).
 */

/**
 * Adds a job. KEYS: ready, data, BullMQ `wait`, BullMQ `prioritized`. ARGV: id, payload, score,
 * bound (-1: no bound, the caller has admitted it), wake-up channel. With a bound the job enters
 * only while the shard's BullMQ queue has no waiting job (the lane never overtakes a backlog) and
 * fewer than `bound` jobs are ready in the lane. The first ready job publishes a wake-up to the
 * shard's workers (later ones find them awake). Returns 1 when added, 0 when refused.
 */
export const LANE_ADD_LUA = `
local bound = tonumber(ARGV[4])
local ready = redis.call('ZCARD', KEYS[1])
if bound >= 0 then
  if ready >= bound then return 0 end
  if redis.call('LLEN', KEYS[3]) + redis.call('ZCARD', KEYS[4]) > 0 then return 0 end
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ready == 0 then redis.call('PUBLISH', ARGV[5], '1') end
return 1
`;

/**
 * Adds jobs the fair queue handed out. KEYS: ready, data, leased. ARGV: wake-up channel, then per
 * job id, payload, score. A job already leased (an add retried after its reply was lost, and the job
 * taken meanwhile) is not added again. Publishes the wake-up when the lane was empty. Returns how
 * many were added.
 */
export const LANE_ADD_MANY_LUA = `
local empty = redis.call('ZCARD', KEYS[1]) == 0
local n = 0
for i = 2, #ARGV, 3 do
  if not redis.call('ZSCORE', KEYS[3], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[i + 2], ARGV[i])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    n = n + 1
  end
end
if empty and n > 0 then redis.call('PUBLISH', ARGV[1], '1') end
return n
`;

/**
 * Takes up to ARGV[1] ready jobs in score order under a lease until ARGV[2] (ms). KEYS: ready,
 * data, leased. Returns a flat list id, payload, …; a ready id without a payload (its job was
 * removed half-way) is dropped.
 */
export const LANE_TAKE_LUA = `
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[1]))
if #popped == 0 then return {} end
local ids = {}
local leases = {}
for i = 1, #popped, 2 do
  ids[#ids + 1] = popped[i]
  leases[#leases + 1] = ARGV[2]
  leases[#leases + 1] = popped[i]
end
redis.call('ZADD', KEYS[3], unpack(leases))
local payloads = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  if payloads[i] then
    out[#out + 1] = id
    out[#out + 1] = payloads[i]
  else
    redis.call('ZREM', KEYS[3], id)
  end
end
return out
`;

/**
 * The leases that ran out by ARGV[1] (ms), at most ARGV[2]. KEYS: leased, data. Returns a flat
 * list id, payload (false when the job's release got half-way: it ended, nothing to recover).
 */
export const LANE_EXPIRED_LUA = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return {} end
local payloads = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = payloads[i] or ''
end
return out
`;

/**
 * Forgets leases that are still expired at ARGV[1] (ms) — their jobs are in BullMQ now — among
 * ARGV[2..]; a lease renewed meanwhile stays. KEYS: leased, data. Returns how many went.
 */
export const LANE_FORGET_LUA = `
local n = 0
for i = 2, #ARGV do
  local deadline = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if deadline and tonumber(deadline) <= tonumber(ARGV[1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    n = n + 1
  end
end
return n
`;

/**
 * Removes a job that has not started (a cancel). KEYS: ready, data, leased. ARGV: id. Returns
 * {1, payload} when removed, {2} when it is leased (running), {0} when the lane does not hold it.
 */
export const LANE_REMOVE_LUA = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  local payload = redis.call('HGET', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return {1, payload or ''}
end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return {2} end
return {0}
`;
