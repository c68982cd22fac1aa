/**
 * The Lua of the fair queue (see fair-queue.ts). Every key a script touches is under one shard's
 * hash tag `hp:{model:shard}:`, so each script runs in one slot of a Redis Cluster. The per-tenant
 * queues `…:fq:q:<tenant>` are named from a prefix inside the scripts (as BullMQ names its job
 * hashes): they share the tag, hence the slot, of the declared keys.
 *
 * Shared KEYS layout (1-11): ring, deficit, weight, maxrun, inflight, data, count, transit, BullMQ
 * `wait`, BullMQ `prioritized`, handoff.
 *
 * `data` holds the payloads of waiting jobs only, so its HLEN is the shard's fair-queue backlog:
 * that is the key KEDA's `redis` scaler reads (it counts a hash with HLEN). Payloads of jobs taken
 * for BullMQ, add not yet confirmed, are in `handoff` until then (they are in BullMQ, or about to
 * be, and must not be counted twice).
 */

/** How many waiting tenants a dispatch round names (the ring's head); the count is always exact. */
export const FAIR_LISTED_TENANTS = 64;

/**
 * Counts what is in the BullMQ queue, ready in the shard's direct lane (`…:lane:ready`, named from
 * the `wait` key's prefix) or on its way to either.
 */
const IN_QUEUE = `
local function in_queue()
  local lane = string.sub(KEYS[9], 1, -5) .. 'lane:ready'
  return redis.call('LLEN', KEYS[9]) + redis.call('ZCARD', KEYS[10]) + redis.call('ZCARD', KEYS[8])
    + redis.call('ZCARD', lane)
end
`;

/**
 * Submission. KEYS 1-11 as above, 12 the seq counter, 13 the tenant's queue, 14 the tenant's held
 * slots (see FAIR_HOLD_LUA). ARGV: tenant, id,
 * payload, priority value (1-3), weight, max_running (0 = none), lookahead, max queued in this shard
 * (-1 = none), now (ms). Returns {1} when the job may go to BullMQ directly (nothing waits in the
 * shard's fair queue and the BullMQ queue is below the lookahead): it is counted as running and put
 * in transit without a payload, so that concurrent submissions see it before its add lands; the
 * caller adds it, then confirms. {2} is the same for a tenant without max_running, whose running
 * jobs nobody reads: it is not counted (and its end must not uncount it). {0, queued, first} when it
 * waits in the tenant's queue (`first` = 1: no other tenant waited in the shard, so dispatchers that
 * saw an empty ring must be told), {-1, queued} when max_queued refuses it. A direct job taken
 * through a slot a worker holds for the tenant (other tenants' jobs wait, this tenant's do not)
 * returns {1 or 2, 0, 0, 1}: the caller adds it ahead of the queued jobs and tells the worker.
 */
export const FAIR_ENQUEUE_LUA = `${IN_QUEUE}
local t = ARGV[1]
local maxrun = tonumber(ARGV[6])
local limit = tonumber(ARGV[8])
-- The tenant's waiting jobs in this shard, read once (-1: not read yet).
local queued = -1
if limit >= 0 then
  queued = redis.call('ZCARD', KEYS[13])
  if queued >= limit then return {-1, queued} end
end
-- Admits the job straight to BullMQ unless the tenant is at its max_running: counted as running
-- (1) or, without a max_running, not (2), and recorded in transit either way. nil: not admitted.
local function admit()
  if maxrun > 0 then
    if tonumber(redis.call('HGET', KEYS[5], t) or '0') >= maxrun then return nil end
    redis.call('HINCRBY', KEYS[5], t, 1)
  end
  redis.call('ZADD', KEYS[8], ARGV[9], ARGV[2])
  if maxrun > 0 then return 1 end
  return 2
end
if redis.call('LLEN', KEYS[1]) == 0 and in_queue() < tonumber(ARGV[7]) then
  local kind = admit()
  if kind then return {kind, 0} end
end
if queued < 0 then queued = redis.call('ZCARD', KEYS[13]) end
-- A slot held for this tenant (nothing of its own waits, so no job of its own is overtaken).
if queued == 0 and tonumber(redis.call('GET', KEYS[14]) or '0') > 0 then
  local kind = admit()
  if kind then
    redis.call('DECR', KEYS[14])
    return {kind, 0, 0, 1}
  end
end
-- The dispatcher reads a waiting tenant's weight and max_running from here.
redis.call('HSET', KEYS[3], t, ARGV[5])
if maxrun > 0 then redis.call('HSET', KEYS[4], t, maxrun) else redis.call('HDEL', KEYS[4], t) end
local seq = redis.call('INCR', KEYS[12])
queued = queued + redis.call('ZADD', KEYS[13], tonumber(ARGV[4]) * 1e13 + seq, ARGV[2])
redis.call('HSET', KEYS[6], ARGV[2], ARGV[3])
redis.call('INCR', KEYS[7])
local first = 0
if queued == 1 and redis.call('RPUSH', KEYS[1], t) == 1 then first = 1 end
return {0, queued, first}
`;

/**
 * Hand-off to BullMQ in weighted deficit round-robin order. KEYS 1-11. ARGV: tenant queue prefix,
 * lookahead, now (ms), reclaim age (ms, 0 = no reclaim this call), F, then F tenants whose jobs
 * finished (their running count drops), then ids the caller has added to BullMQ since its last
 * call (out of transit).
 *
 * Transit entries older than the reclaim age (their dispatcher died between this script and its
 * BullMQ add) are returned again. Then jobs are taken until the BullMQ queue plus transit holds
 * `lookahead`: the tenant at the ring's head gets its weight added to its deficit when below one
 * job, serves a job per unit of deficit (its highest priority, oldest first), and moves to the tail
 * when its deficit or queue runs out; a tenant at its max_running is passed over. Returns a flat
 * list {id, payload, ...} for the caller to add, then the first FAIR_LISTED_TENANTS tenants still
 * waiting (a nested list), then how many tenants still wait.
 */
export const FAIR_DISPATCH_LUA = `${IN_QUEUE}
local MAX_LISTED = ${FAIR_LISTED_TENANTS}
local f = tonumber(ARGV[5])
for i = 6, 5 + f do
  if redis.call('HINCRBY', KEYS[5], ARGV[i], -1) <= 0 then redis.call('HDEL', KEYS[5], ARGV[i]) end
end
-- A confirmed id's payload is dropped from both hashes: a dispatcher of an earlier version left
-- in-transit payloads in 'data', which would otherwise stay there (and count as waiting) for good.
for i = 6 + f, #ARGV do
  if redis.call('ZREM', KEYS[8], ARGV[i]) == 1 then
    redis.call('HDEL', KEYS[11], ARGV[i])
    redis.call('HDEL', KEYS[6], ARGV[i])
  end
end
local now = tonumber(ARGV[3])
local out = {}
local stale = {}
if tonumber(ARGV[4]) > 0 then
  stale = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', now - tonumber(ARGV[4]), 'LIMIT', 0, 100)
end
for _, id in ipairs(stale) do
  local p = redis.call('HGET', KEYS[11], id)
  if not p then
    -- Taken by a dispatcher of an earlier version, which kept the payload in 'data'.
    p = redis.call('HGET', KEYS[6], id)
    if p then
      redis.call('HDEL', KEYS[6], id)
      redis.call('HSET', KEYS[11], id, p)
    end
  end
  if p then
    redis.call('ZADD', KEYS[8], now, id)
    out[#out + 1] = id
    out[#out + 1] = p
  else
    redis.call('ZREM', KEYS[8], id)
  end
end
local n = redis.call('LLEN', KEYS[1])
if n == 0 then
  out[#out + 1] = {}
  out[#out + 1] = '0'
  return out
end
local want = tonumber(ARGV[2]) - in_queue()
local idle = 0
local blocked = 0
while want > 0 and n > 0 and idle <= n * 101 and blocked < n do
  local t = redis.call('LINDEX', KEYS[1], 0)
  local q = ARGV[1] .. t
  local maxrun = tonumber(redis.call('HGET', KEYS[4], t) or '0')
  local run = tonumber(redis.call('HGET', KEYS[5], t) or '0')
  local d = tonumber(redis.call('HGET', KEYS[2], t) or '0')
  if maxrun > 0 and run >= maxrun then
    redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
    idle = idle + 1
    blocked = blocked + 1
  else
    blocked = 0
    if d < 1 then d = d + tonumber(redis.call('HGET', KEYS[3], t) or '1') end
    if d < 1 then
      redis.call('HSET', KEYS[2], t, tostring(d))
      redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
      idle = idle + 1
    else
      -- A visit serves every whole unit of deficit at once; a tenant alone in the ring serves
      -- what is wanted (there is no one to take turns with, and it keeps no debt for it).
      local k = math.floor(d)
      if n == 1 then k = want end
      if k > want then k = want end
      if maxrun > 0 and k > maxrun - run then k = maxrun - run end
      local popped = redis.call('ZPOPMIN', q, k)
      local got = #popped / 2
      if got > 0 then
        if n == 1 then d = 0 else d = d - got end
        want = want - got
        idle = 0
        redis.call('HINCRBY', KEYS[5], t, got)
        redis.call('DECRBY', KEYS[7], got)
        local ids = {}
        local zargs = {}
        for i = 1, #popped, 2 do
          ids[#ids + 1] = popped[i]
          zargs[#zargs + 1] = now
          zargs[#zargs + 1] = popped[i]
        end
        local payloads = redis.call('HMGET', KEYS[6], unpack(ids))
        redis.call('HDEL', KEYS[6], unpack(ids))
        redis.call('ZADD', KEYS[8], unpack(zargs))
        local moved = {}
        for i, id in ipairs(ids) do
          if payloads[i] then
            out[#out + 1] = id
            out[#out + 1] = payloads[i]
            moved[#moved + 1] = id
            moved[#moved + 1] = payloads[i]
          end
        end
        if #moved > 0 then redis.call('HSET', KEYS[11], unpack(moved)) end
      end
      if got == 0 or redis.call('ZCARD', q) == 0 then
        redis.call('LPOP', KEYS[1])
        redis.call('HDEL', KEYS[2], t)
        n = n - 1
      elseif d < 1 then
        redis.call('HSET', KEYS[2], t, tostring(d))
        redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
      else
        redis.call('HSET', KEYS[2], t, tostring(d))
      end
    end
  end
end
-- The tenants still waiting (a worker holds a freed slot only for a tenant not among them).
out[#out + 1] = redis.call('LRANGE', KEYS[1], 0, MAX_LISTED - 1)
out[#out + 1] = tostring(n)
return out
`;

/**
 * A worker holds a freed slot for a tenant: KEYS[1] its held-slot counter, ARGV[1] for how long (ms).
 * Each hold adds one slot; the submission script takes one per job; what is not taken expires.
 */
export const FAIR_HOLD_LUA = `
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * Removes a waiting job (cancellation). KEYS: ring, deficit, data, count, the tenant's queue.
 * ARGV: tenant, id. Returns 1 when the job was waiting here.
 */
export const FAIR_REMOVE_LUA = `
if redis.call('ZREM', KEYS[5], ARGV[2]) == 0 then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('DECR', KEYS[4])
if redis.call('ZCARD', KEYS[5]) == 0 then
  redis.call('LREM', KEYS[1], 0, ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1
`;

/** A job counted as running that will never finish on a worker (its add failed, or it was removed). */
export const FAIR_RELEASE_LUA = `
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`;
