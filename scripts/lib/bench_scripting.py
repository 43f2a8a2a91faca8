#!/usr/bin/env python3
"""The scripting phase of scripts/bench (issue 17): redis-benchmark running EVAL of the one-line
`return redis.call('set',KEYS[1],ARGV[1])` and EVALSHA of a 20-line script (a token bucket: HMGET,
arithmetic, HSET, PEXPIRE, a small table and table.concat), on vigil-node and redis-server.

Both run with 50 connections, unpipelined (the usual way scripts are called) and with -P 16 (where
the interpreter's own cost per call dominates). Server CPU per call comes from /proc."""

import csv
import subprocess

EVAL_SET = "return redis.call('set',KEYS[1],ARGV[1])"

# 20 lines; every call reads and writes its hash, so the work per call stays the same.
BUCKET = """local key = KEYS[1]
local now = tonumber(ARGV[1])
local rate = 10
local burst = 20
local data = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
local elapsed = math.max(0, now - ts)
tokens = math.min(burst, tokens + elapsed * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, 60000)
local parts = {}
for i = 1, 5 do parts[i] = tostring(i * tokens) end
local summary = table.concat(parts, ',')
return {allowed, summary}"""


def run_benchmark_csv(server, args):
    """redis-benchmark --csv with real CSV parsing (the EVAL test's name holds commas, which the
    shared runner's split would cut); returns ({test: rps}, server CPU seconds, total requests)."""
    cpu0 = server.cpu()
    r = subprocess.run(["redis-benchmark", "-p", str(server.port), "--csv", "-q", *args],
                       capture_output=True, text=True, timeout=1800)
    cpu1 = server.cpu()
    rps = {}
    for row in csv.reader(r.stdout.splitlines()):
        if len(row) >= 2 and row[0] != "test":
            try:
                rps[row[0]] = float(row[1])
            except ValueError:
                pass
    n = int(args[args.index("-n") + 1])
    return rps, cpu1 - cpu0, n * len(rps)


def run_round(server, cli, run_benchmark, add, quick, log):
    """One round of the scripting measurements on `server` (a started ServerProc)."""
    n = 50000 if quick else 200000
    sha = cli(server.port, "script", "load", BUCKET)
    if len(sha) != 40:
        log(f"  {server.kind}: SCRIPT LOAD answered {sha!r}; scripting phase skipped")
        return
    # The script must answer what Redis answers before it is timed.
    check = subprocess.run(["redis-cli", "-p", str(server.port), "evalsha", sha, "1", "bench:bucket:check", "1000"],
                           capture_output=True, text=True, timeout=60).stdout.split()
    if check[:1] != ["1"]:
        log(f"  {server.kind}: EVALSHA answered {check!r}; scripting phase skipped")
        return
    run_benchmark = run_benchmark_csv
    for label, extra in (("eval_set", []), ("eval_set_p16", ["-P", "16"])):
        rps, cpu, total = run_benchmark(server, ["-c", "50", "-n", str(n * (4 if extra else 1)), "-r", "100000"] + extra +
                                        ["eval", EVAL_SET, "1", "bench:k:__rand_int__", "v"])
        if rps:
            add(server.kind, f"{label}_rps", max(rps.values()))
            add(server.kind, f"{label}_cpu_per_M", cpu / total * 1e6)
    for label, extra in (("evalsha20", []), ("evalsha20_p16", ["-P", "16"])):
        rps, cpu, total = run_benchmark(server, ["-c", "50", "-n", str(n * (4 if extra else 1)), "-r", "10000"] + extra +
                                        ["evalsha", sha, "1", "bench:bucket:__rand_int__", "1000"])
        if rps:
            add(server.kind, f"{label}_rps", max(rps.values()))
            add(server.kind, f"{label}_cpu_per_M", cpu / total * 1e6)


ROWS = [
    ("eval_set_rps", "EVAL redis.call('set') rps (-c 50)", "{:,.0f}", 0.8, "higher"),
    ("eval_set_p16_rps", "EVAL redis.call('set') rps (-P 16)", "{:,.0f}", 0.8, "higher"),
    ("eval_set_cpu_per_M", "server CPU s / 1M EVAL set (-c 50)", "{:.2f}", 1.25, "lower"),
    ("evalsha20_rps", "EVALSHA 20-line script rps (-c 50)", "{:,.0f}", 0.8, "higher"),
    ("evalsha20_p16_rps", "EVALSHA 20-line script rps (-P 16)", "{:,.0f}", 0.8, "higher"),
    ("evalsha20_cpu_per_M", "server CPU s / 1M EVALSHA 20 lines", "{:.2f}", 1.25, "lower"),
]
