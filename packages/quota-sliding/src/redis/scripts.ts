// The Redis scripts. Each check or settle is one script, run atomically in one
// round trip; the time is Redis `TIME`, never a client clock (Redis ≥ 5
// replicates scripts by their effects, so reading TIME before writing is
// allowed). The arithmetic is the one of ../memory/window.ts and
// ../memory/log.ts, so every backend answers alike. Replies are flat arrays
// of integers (and log entry names).
//
// Key expiries are set from the dimensions limited in the call: a dimension
// that a later call no longer limits may lose its state early, which only
// drops usage that no limit in force counts any more.

const NOW = `
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

/**
 * Window counters (fixed and sliding counter): one hash per tenant and
 * algorithm, with integer fields rw, rs, rc, rp (requests: the window length
 * counted in, the current window's start, its count, the previous window's
 * count) and tw, ts, tc, tp (tokens). Counts kept for another window length
 * are dropped, as in memory. No string building or parsing in the script.
 */
const WINDOW_HELPERS = `
local now = math.floor(now_us / 1000)
local sliding = ARGV[1] == '1'
local key = KEYS[1]
local stored = redis.call('HMGET', key, 'rw', 'rs', 'rc', 'rp', 'tw', 'ts', 'tc', 'tp')
local FIELDS = { { 'rw', 'rs', 'rc', 'rp' }, { 'tw', 'ts', 'tc', 'tp' } }
-- The expiry is an absolute time, the same for every call within a window:
-- it is set only when a window starts (or the key is new).
local expire_at = 0
local rolled = false
local function parse(i, w)
  local start = now - (now % w)
  local horizon = start + w
  if sliding then horizon = horizon + w end
  if horizon > expire_at then expire_at = horizon end
  local base = i * 4 - 4
  if tonumber(stored[base + 1]) ~= w then
    rolled = true
    return start, 0, 0, false
  end
  local s = tonumber(stored[base + 2])
  if s == start then return start, tonumber(stored[base + 3]) or 0, tonumber(stored[base + 4]) or 0, true end
  rolled = true
  if s == start - w then return start, 0, tonumber(stored[base + 3]) or 0, false end
  return start, 0, 0, false
end
local fields = {}
-- Within the same window only the count changes: write just that field.
local function stage(i, w, start, cur, prev, same)
  local f = FIELDS[i]
  local n = #fields
  if same then
    fields[n + 1] = f[3]
    fields[n + 2] = cur
    return
  end
  fields[n + 1] = f[1]
  fields[n + 2] = w
  fields[n + 3] = f[2]
  fields[n + 4] = start
  fields[n + 5] = f[3]
  fields[n + 6] = cur
  fields[n + 7] = f[4]
  fields[n + 8] = prev
end
local function save()
  if #fields == 0 then return end
  redis.call('HSET', key, unpack(fields))
  if rolled then redis.call('PEXPIREAT', key, expire_at) end
end
`;

/**
 * Lua shared by the two window checks, one dimension: from `now`, its window
 * length `w` and its four hash fields read as `stored[at(1..4)]` (window
 * length, start, count, previous count), the current window's `start`, this
 * window's count `cur`, the previous window's `prev`, and `same` (the stored
 * window is this one; counts of another window length are dropped).
 */
const readWindow = (at: (field: number) => string): string => `
local start = now - (now % w)
local cur, prev, same = 0, 0, false
if tonumber(stored[${at(1)}]) == w then
  local s = tonumber(stored[${at(2)}])
  if s == start then
    cur = tonumber(stored[${at(3)}]) or 0
    prev = tonumber(stored[${at(4)}]) or 0
    same = true
  elseif s == start - w then
    prev = tonumber(stored[${at(3)}]) or 0
  end
end`;

/**
 * Lua shared by the two window checks, after {@link readWindow}: with the
 * limit `L`, the cost `want` and `sliding`, the usage `used` (the previous
 * window weighed by how much of it still overlaps, when sliding) and `wait`:
 * 0 admitted, -1 never (the cost exceeds the limit), else the milliseconds
 * until it fits (the arithmetic of ../memory/window.ts).
 */
const WAIT = `
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
end`;

/**
 * Lua of WINDOW_CHECK, once per dimension (`d`: 'r' requests, 't' tokens,
 * the prefix of its hash fields and of its locals), written out for each so
 * that the script stays straight-line: the key's expiry, and the fields to
 * write (only the count within the same window).
 */
const stageDimension = (d: 'r' | 't'): string => `
  if ${d}l then
    if not ${d}same then rolled = true end
    local horizon = ${d}s + ${d}w
    if sliding then horizon = horizon + ${d}w end
    if horizon > expire_at then expire_at = horizon end
    if ${d}want > 0 then
      if ${d}same then
        fields[n + 1] = '${d}c'; fields[n + 2] = ${d}cur + ${d}want; n = n + 2
      else
        fields[n + 1] = '${d}w'; fields[n + 2] = ${d}w; fields[n + 3] = '${d}s'; fields[n + 4] = ${d}s
        fields[n + 5] = '${d}c'; fields[n + 6] = ${d}cur + ${d}want; fields[n + 7] = '${d}p'; fields[n + 8] = ${d}prev; n = n + 8
      end
    end
  end`;

/**
 * KEYS: the tenant's hash. ARGV: sliding (1|0), then per dimension (requests, tokens): limit (-1: unlimited), windowMs, want.
 * Reply: now, allowed (1|0), then per dimension: wait, remainingBefore, remainingAfter, resetAt, window start (zeros when unlimited).
 * Straight-line: one closure, multiple return values instead of tables, one table for the write.
 */
export const WINDOW_CHECK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sliding = ARGV[1] == '1'
local key = KEYS[1]
local stored = redis.call('HMGET', key, 'rw', 'rs', 'rc', 'rp', 'tw', 'ts', 'tc', 'tp')
local floor, max = math.floor, math.max
-- One dimension (i: 0 requests, 1 tokens): limited?, wait, before, after, start, w, want, cur, prev, same.
local function check(i)
  local L = tonumber(ARGV[i * 3 + 2])
  if L < 0 then return false end
  local w = tonumber(ARGV[i * 3 + 3])
  local want = tonumber(ARGV[i * 3 + 4])
  local b = i * 4
${readWindow((field) => `b + ${field}`)}${WAIT}
  return true, wait, max(0, floor(L - used)), max(0, floor(L - used - want)), start, w, want, cur, prev, same
end
local rl, rwait, rb, ra, rs, rw, rwant, rcur, rprev, rsame = check(0)
local tl, twait, tb, ta, ts, tw, twant, tcur, tprev, tsame = check(1)
local ok = 1
if (rl and rwait ~= 0) or (tl and twait ~= 0) then ok = 0 end
if ok == 1 then
  -- Within the same window only the count changes: write just that field.
  -- The expiry (absolute, the same for every call within a window) is set
  -- when a limited dimension's window starts (or the key is new).
  local fields = {}
  local n = 0
  local rolled = false
  local expire_at = 0
${stageDimension('r')}${stageDimension('t')}
  if n > 0 then
    redis.call('HSET', key, unpack(fields))
    if rolled then redis.call('PEXPIREAT', key, expire_at) end
  end
end
if not rl then rwait, rb, ra, rs, rw = 0, 0, 0, 0, 0 end
if not tl then twait, tb, ta, ts, tw = 0, 0, 0, 0, 0 end
return { now, ok, rwait, rb, ra, rs + rw, rs, twait, tb, ta, ts + tw, ts }
`;

/**
 * WINDOW_CHECK specialised for a call that limits one dimension: the same
 * hash fields, the same arithmetic and writes as WINDOW_CHECK when the other
 * dimension is unlimited (so a tenant may move between one and two limited
 * dimensions), straight-line, with no tables or closures, and a short reply.
 *
 * KEYS: the tenant's hash. ARGV: sliding (1|0), dimension ('r' | 't'), limit, windowMs, want.
 * Reply: now, wait (0: admitted and counted), remainingBefore, remainingAfter; the
 * window start is `now - now % windowMs`, as here.
 */
export const WINDOW_CHECK_ONE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local sliding = ARGV[1] == '1'
local fw, fs, fc, fp = 'rw', 'rs', 'rc', 'rp'
if ARGV[2] == 't' then fw, fs, fc, fp = 'tw', 'ts', 'tc', 'tp' end
local L = tonumber(ARGV[3])
local w = tonumber(ARGV[4])
local want = tonumber(ARGV[5])
local stored = redis.call('HMGET', key, fw, fs, fc, fp)
${readWindow(String)}${WAIT}
if wait == 0 and want > 0 then
  if same then
    -- The count is an integer below 2^53 (written as digits by either
    -- script): HINCRBY by the argument as sent skips a number-to-text
    -- conversion in Lua.
    redis.call('HINCRBY', key, fc, ARGV[5])
  else
    local horizon = start + w
    if sliding then horizon = horizon + w end
    redis.call('HSET', key, fw, w, fs, start, fc, cur + want, fp, prev)
    redis.call('PEXPIREAT', key, horizon)
  end
end
return { now, wait, math.max(0, math.floor(L - used)), math.max(0, math.floor(L - used - want)) }
`;

/** KEYS: the tenant's hash. ARGV: sliding (1|0), then per dimension: ticket window start, windowMs (0: not limited), delta. */
export const WINDOW_SETTLE = `${NOW}${WINDOW_HELPERS}
for i = 1, 2 do
  local w = tonumber(ARGV[i * 3])
  if w > 0 then
    local ts = tonumber(ARGV[i * 3 - 1])
    local delta = tonumber(ARGV[i * 3 + 1])
    local start, cur, prev, same = parse(i, w)
    local changed = delta ~= 0
    if not changed then
    elseif ts == start then cur = math.max(0, cur + delta)
    elseif sliding and ts == start - w and delta < 0 then
      prev = math.max(0, prev + delta)
      same = false
    elseif delta > 0 then cur = cur + delta
    else changed = false end
    if changed then stage(i, w, start, cur, prev, same) end
  end
end
save()
return 1
`;

/**
 * The sliding log: per tenant, dimension and window length, a sorted set of
 * entries '<time µs>:<seq>:<cost>' scored by their time (ms, µs precision);
 * and one hash per tenant with the running sum of each log ('r:60000') and
 * the entry sequence.
 */
const LOG_HELPERS = `
local now = now_us / 1000
local meta = KEYS[1]
local names = { 'r:' .. ARGV[2], 't:' .. ARGV[5] }
local sums = redis.call('HMGET', meta, names[1], names[2])
local function cost_of(member) return tonumber(string.match(member, ':(%d+)$')) end
-- Drops the entries that left the window; returns the usage still in it,
-- the oldest entry's score (or nil when empty), and whether the sum changed.
local function evict(z, w, sum)
  local edge = now - w
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', edge)
  local changed = false
  if #old > 0 then
    for i = 1, #old do sum = sum - cost_of(old[i]) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', edge)
    changed = true
  end
  local oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  if #oldest == 0 then
    -- An empty (or expired) log holds nothing, whatever the hash says.
    return 0, nil, sum ~= 0 or changed
  end
  return sum, tonumber(oldest[2]), changed
end
local seq = nil
local function add(z, w, cost)
  if not seq then seq = redis.call('HINCRBY', meta, 'seq', 1) end
  local member = string.format('%d:%d:%d', now_us, seq, cost)
  redis.call('ZADD', z, now, member)
  redis.call('PEXPIRE', z, math.ceil(w) + 1)
  return member
end
local function save(fields, keep)
  if #fields > 0 then redis.call('HSET', meta, unpack(fields)) end
  if keep > 0 then redis.call('PEXPIRE', meta, keep) end
end
`;

/** KEYS: the tenant's log hash, requests log, tokens log. ARGV per dimension: limit (-1: unlimited), windowMs, want. */
export const LOG_CHECK = `${NOW}${LOG_HELPERS}
local dims = {}
local ok = 1
for i = 1, 2 do
  local L = tonumber(ARGV[i * 3 - 2])
  if L >= 0 then
    local w = tonumber(ARGV[i * 3 - 1])
    local want = tonumber(ARGV[i * 3])
    local used, oldest, changed = evict(KEYS[i + 1], w, tonumber(sums[i]) or 0)
    local wait = 0
    if want > L then
      wait = -1
    elseif used + want > L then
      local freed = 0
      local from = 0
      while wait == 0 do
        local batch = redis.call('ZRANGE', KEYS[i + 1], from, from + 99, 'WITHSCORES')
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
    if oldest then reset = oldest + w end
    dims[i] = { w = w, want = want, used = used, changed = changed, wait = wait,
      before = math.max(0, L - used), after = math.max(0, L - used - want), reset = math.ceil(reset) }
    if wait ~= 0 then ok = 0 end
  end
end
local reply = { math.floor(now), ok }
local fields = {}
local keep = 0
for i = 1, 2 do
  local d = dims[i]
  if d then
    local member = ''
    local sum = d.used
    if ok == 1 and d.want > 0 then
      member = add(KEYS[i + 1], d.w, d.want)
      sum = sum + d.want
      d.changed = true
    end
    if d.changed then
      table.insert(fields, names[i])
      table.insert(fields, string.format('%d', sum))
    end
    keep = math.max(keep, math.ceil(d.w) + 1)
    for _, v in ipairs({ d.wait, d.before, d.after, d.reset }) do table.insert(reply, v) end
    table.insert(reply, member)
  else
    for _ = 1, 4 do table.insert(reply, 0) end
    table.insert(reply, '')
  end
end
save(fields, keep)
return reply
`;

/** KEYS: as LOG_CHECK. ARGV per dimension: the ticket's entry, windowMs (0: not limited), delta. */
export const LOG_SETTLE = `${NOW}${LOG_HELPERS}
local fields = {}
local keep = 0
for i = 1, 2 do
  local w = tonumber(ARGV[i * 3 - 1])
  if w > 0 then
    local z = KEYS[i + 1]
    local member = ARGV[i * 3 - 2]
    local delta = tonumber(ARGV[i * 3])
    local sum, _, changed = evict(z, w, tonumber(sums[i]) or 0)
    if delta > 0 then
      add(z, w, delta)
      sum = sum + delta
      changed = true
    elseif delta < 0 and member ~= '' then
      local score = redis.call('ZSCORE', z, member)
      if score then
        local cost = cost_of(member)
        local refund = math.min(-delta, cost)
        redis.call('ZREM', z, member)
        if cost - refund > 0 then
          redis.call('ZADD', z, score, (string.gsub(member, ':%d+$', ':' .. string.format('%d', cost - refund))))
        end
        sum = sum - refund
        changed = true
      end
    end
    if changed then
      table.insert(fields, names[i])
      table.insert(fields, string.format('%d', sum))
    end
    keep = math.max(keep, math.ceil(w) + 1)
  end
end
save(fields, keep)
return 1
`;
