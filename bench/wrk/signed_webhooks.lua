-- wrk script for bench/bench_pipeline.py: posts pre-signed, unique Stripe webhooks.
--
-- The requests file (BENCH_REQUESTS) holds one request a line: "<Stripe-Signature>\t<JSON body>".
-- Thread k of BENCH_THREADS takes lines k, k+T, k+2T, ... and its connections take them in turn,
-- so no two requests of a run carry the same event id (a duplicate is cheaper for every system:
-- it would flatter the rate). When a thread runs out it starts again and counts the reuse; the
-- bench reports it, and sizes the file so that it does not happen.
--
-- BENCH_RATE > 0 paces the run (wrk2 is not in Debian): each thread keeps a schedule of send
-- slots 1/(rate/T) apart and delay() waits for the next slot, read from CLOCK_MONOTONIC through
-- LuaJIT's ffi. A thread that falls behind catches up at most one second of missed slots.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
   return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local prepared = {}
local position = 0
local wrapped = false
reused = 0

function init(args)
   local line_number = 0
   for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      if line_number % thread_count == id then
         local tab = string.find(line, "\t", 1, true)
         local headers = {["Content-Type"] = "application/json",
                          ["Stripe-Signature"] = string.sub(line, 1, tab - 1)}
         table.insert(prepared, wrk.format("POST", nil, headers, string.sub(line, tab + 1)))
      end
      line_number = line_number + 1
   end
end

function request()
   position = position + 1
   if position > #prepared then
      position = 1
      wrapped = true
   end
   if wrapped then
      reused = reused + 1
   end
   return prepared[position]
end

if rate > 0 then
   local interval_ms = 1000 * thread_count / rate
   local next_slot = nil

   function delay()
      local now = now_ms()
      if next_slot == nil or next_slot < now - 1000 then
         next_slot = now
      end
      local slot = next_slot
      next_slot = next_slot + interval_ms
      if slot <= now then
         return 0
      end
      return math.floor(slot - now)
   end
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get("reused") or 0)
   end
   io.write(string.format("bench: reused %d\n", total))
end
