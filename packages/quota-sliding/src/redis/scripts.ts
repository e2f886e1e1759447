// The Redis scripts. Each check or settle is one script, run atomically in one
// round trip; the time is Redis `TIME`, never a client clock. The arithmetic is
// the one of ../memory/window.ts and ../memory/log.ts, so every backend answers
// alike. Replies are flat arrays of integers (and log entry names).

/** Reads the clock and the shared helpers; `now` is in milliseconds. */
const PRELUDE = `
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

/**
 * Window counters (fixed and sliding counter), one hash per tenant,
 * dimension and window length: s = current window start, c = its count,
 * p = the previous window's count.
 */
const WINDOW_HELPERS = `
local now = math.floor(now_us / 1000)
local sliding = ARGV[1] == '1'
local function load(key, w)
  local v = redis.call('HMGET', key, 's', 'c', 'p')
  local start = now - (now % w)
  local s = tonumber(v[1])
  local c = tonumber(v[2]) or 0
  if s == start then return start, c, tonumber(v[3]) or 0 end
  if s == start - w then return start, 0, c end
  return start, 0, 0
end
local function store(key, w, start, cur, prev)
  redis.call('HSET', key, 's', start, 'c', cur, 'p', prev)
  local keep = start + w - now
  if sliding then keep = keep + w end
  redis.call('PEXPIRE', key, math.max(1, keep))
end
`;

/** KEYS: requests hash, tokens hash. ARGV: sliding (1|0), then per dimension: limit (-1: unlimited), windowMs, want. */
export const WINDOW_CHECK = `${PRELUDE}${WINDOW_HELPERS}
local function check(key, L, w, want)
  local start, cur, prev = load(key, w)
  local weighed = prev
  if not sliding then weighed = 0 end
  local elapsed = now - start
  local used = weighed * (w - elapsed) / w + cur
  local wait = 0
  if want > L then
    wait = -1
  elseif used + want > L then
    if cur + want > L then
      local y = 0
      if sliding then y = math.ceil(w * (cur + want - L) / cur) end
      wait = start + w - now + y
    else
      wait = math.max(1, math.ceil(w * (weighed - (L - want - cur)) / weighed) - elapsed)
    end
  end
  return { start = start, cur = cur, prev = prev, wait = wait,
    before = math.max(0, math.floor(L - used)), after = math.max(0, math.floor(L - used - want)), reset = start + w }
end
local dims = {}
local ok = 1
for i = 0, 1 do
  local L = tonumber(ARGV[2 + i * 3])
  if L >= 0 then
    local d = check(KEYS[i + 1], L, tonumber(ARGV[3 + i * 3]), tonumber(ARGV[4 + i * 3]))
    dims[i + 1] = d
    if d.wait ~= 0 then ok = 0 end
  end
end
local reply = { now, ok }
for i = 0, 1 do
  local d = dims[i + 1]
  if d then
    if ok == 1 then
      local want = tonumber(ARGV[4 + i * 3])
      if want > 0 then store(KEYS[i + 1], tonumber(ARGV[3 + i * 3]), d.start, d.cur + want, d.prev) end
    end
    table.insert(reply, d.wait) table.insert(reply, d.before) table.insert(reply, d.after)
    table.insert(reply, d.reset) table.insert(reply, d.start)
  else
    for _ = 1, 5 do table.insert(reply, 0) end
  end
end
return reply
`;

/** KEYS: requests hash, tokens hash. ARGV: sliding (1|0), then per dimension: windowMs (0: skip), ticket window start, delta. */
export const WINDOW_SETTLE = `${PRELUDE}${WINDOW_HELPERS}
for i = 0, 1 do
  local w = tonumber(ARGV[2 + i * 3])
  if w > 0 then
    local key = KEYS[i + 1]
    local ts = tonumber(ARGV[3 + i * 3])
    local delta = tonumber(ARGV[4 + i * 3])
    local start, cur, prev = load(key, w)
    local changed = true
    if ts == start then cur = math.max(0, cur + delta)
    elseif sliding and ts == start - w and delta < 0 then prev = math.max(0, prev + delta)
    elseif delta > 0 then cur = cur + delta
    else changed = false end
    if changed then store(key, w, start, cur, prev) end
  end
end
return 1
`;

/**
 * The sliding log: per tenant, dimension and window length, a sorted set of
 * entries '<time>:<seq>:<cost>' scored by their time (microsecond
 * precision), and a hash with their running sum and a sequence.
 */
const LOG_HELPERS = `
local now = now_us / 1000
local function cost_of(member) return tonumber(string.match(member, ':(%d+)$')) end
local function evict(z, m, w)
  local edge = now - w
  local sum = tonumber(redis.call('HGET', m, 'sum') or '0')
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', edge)
  if #old > 0 then
    for i = 1, #old do sum = sum - cost_of(old[i]) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', edge)
    if redis.call('EXISTS', z) == 0 then sum = 0 end
    redis.call('HSET', m, 'sum', string.format('%d', sum))
  end
  return sum
end
local function add(z, m, w, cost)
  local seq = redis.call('HINCRBY', m, 'seq', 1)
  local member = string.format('%d:%d:%d', now_us, seq, cost)
  redis.call('ZADD', z, now, member)
  redis.call('HINCRBY', m, 'sum', string.format('%d', cost))
  local keep = math.ceil(w) + 1
  redis.call('PEXPIRE', z, keep)
  redis.call('PEXPIRE', m, keep)
  return member
end
`;

/** KEYS: requests log, requests meta, tokens log, tokens meta. ARGV per dimension: limit (-1: unlimited), windowMs, want. */
export const LOG_CHECK = `${PRELUDE}${LOG_HELPERS}
local function check(z, m, L, w, want)
  local used = evict(z, m, w)
  local wait = 0
  if want > L then
    wait = -1
  elseif used + want > L then
    local freed = 0
    local from = 0
    while wait == 0 do
      local batch = redis.call('ZRANGE', z, from, from + 99, 'WITHSCORES')
      if #batch == 0 then wait = 1 break end
      for j = 1, #batch, 2 do
        freed = freed + cost_of(batch[j])
        if used - freed + want <= L then
          wait = math.max(1, math.ceil(tonumber(batch[j + 1]) + w - now))
          break
        end
      end
      from = from + 100
    end
  end
  local reset = now + w
  local oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  if #oldest > 0 then reset = tonumber(oldest[2]) + w end
  return { wait = wait, before = math.max(0, L - used), after = math.max(0, L - used - want), reset = math.ceil(reset) }
end
local dims = {}
local ok = 1
for i = 0, 1 do
  local L = tonumber(ARGV[1 + i * 3])
  if L >= 0 then
    local d = check(KEYS[1 + i * 2], KEYS[2 + i * 2], L, tonumber(ARGV[2 + i * 3]), tonumber(ARGV[3 + i * 3]))
    dims[i + 1] = d
    if d.wait ~= 0 then ok = 0 end
  end
end
local reply = { math.floor(now), ok }
for i = 0, 1 do
  local d = dims[i + 1]
  if d then
    local member = ''
    local want = tonumber(ARGV[3 + i * 3])
    if ok == 1 and want > 0 then
      member = add(KEYS[1 + i * 2], KEYS[2 + i * 2], tonumber(ARGV[2 + i * 3]), want)
    end
    table.insert(reply, d.wait) table.insert(reply, d.before) table.insert(reply, d.after)
    table.insert(reply, d.reset) table.insert(reply, member)
  else
    for _ = 1, 4 do table.insert(reply, 0) end
    table.insert(reply, '')
  end
end
return reply
`;

/** KEYS: as LOG_CHECK. ARGV per dimension: windowMs (0: skip), the ticket's entry, delta. */
export const LOG_SETTLE = `${PRELUDE}${LOG_HELPERS}
for i = 0, 1 do
  local w = tonumber(ARGV[1 + i * 3])
  if w > 0 then
    local z = KEYS[1 + i * 2]
    local m = KEYS[2 + i * 2]
    local member = ARGV[2 + i * 3]
    local delta = tonumber(ARGV[3 + i * 3])
    evict(z, m, w)
    if delta > 0 then
      add(z, m, w, delta)
    elseif member ~= '' then
      local score = redis.call('ZSCORE', z, member)
      if score then
        local cost = cost_of(member)
        local refund = math.min(-delta, cost)
        redis.call('ZREM', z, member)
        if cost - refund > 0 then
          redis.call('ZADD', z, score, (string.gsub(member, ':%d+$', ':' .. string.format('%d', cost - refund))))
        end
        redis.call('HINCRBY', m, 'sum', string.format('%d', -refund))
      end
    end
  end
end
return 1
`;
