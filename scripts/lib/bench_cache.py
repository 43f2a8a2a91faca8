#!/usr/bin/env python3
"""The cache phase of scripts/bench (issue 15), run with --only cache:

- lru: maxmemory 64 MB with allkeys-lru, a key space 4x larger than what redis-server holds at
  that limit, 100-byte values; the set is filled once, then a GET/SET mix runs as two concurrent
  redis-benchmark clients (40 connections of GET, 10 of SET, both over the whole key space).
  Throughput is requests of both over the wall time; the hit rate is keyspace_hits over hits +
  misses of the mix alone (INFO stats before and after).
- notify: the default redis-benchmark mix with notify-keyspace-events KEA, one pattern
  subscriber on __key*__:* and one RESP3 connection with CLIENT TRACKING ON BCAST (both drained
  by a thread), the rest as the throughput phase runs it.

Numbers are informational; no test asserts on them."""

import socket
import subprocess
import threading
import time

VALUE = 100
MAXMEMORY = 64 * 1024 * 1024
# What redis-server 7.0.15 holds at 64 MB with 100-byte values and keys of "key:%012d" is about
# 390,000 keys; four times that is the key space.
KEYSPACE = 1_600_000


def info_stats(cli, port):
    out = {}
    for line in cli(port, "info", "stats").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def bench(port, args):
    return subprocess.Popen(["redis-benchmark", "-p", str(port), "-q", "--csv", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def run_lru(server_cls, kind, binary, workdir, cli, settle_rss, add, quick, log):
    s = server_cls(kind, binary, workdir, ["--maxmemory", str(MAXMEMORY), "--maxmemory-policy", "allkeys-lru"]).start()
    try:
        keyspace = KEYSPACE // 4 if quick else KEYSPACE
        log(f"  filling {kind}: {keyspace:,} SETs of {VALUE} bytes over a {keyspace:,}-key space")
        fill = bench(s.port, ["-t", "set", "-n", str(keyspace), "-r", str(keyspace), "-d", str(VALUE), "-c", "50", "-P", "16"])
        fill.communicate(timeout=1800)
        add(kind, "cache_keys_held", int(cli(s.port, "dbsize") or 0))
        n = 200_000 if quick else 1_000_000
        before = info_stats(cli, s.port)
        t0 = time.monotonic()
        gets = bench(s.port, ["-t", "get", "-n", str(n * 4 // 5), "-r", str(keyspace), "-c", "40"])
        sets = bench(s.port, ["-t", "set", "-n", str(n // 5), "-r", str(keyspace), "-d", str(VALUE), "-c", "10"])
        gets.communicate(timeout=1800)
        sets.communicate(timeout=1800)
        wall = time.monotonic() - t0
        after = info_stats(cli, s.port)
        hits = int(after["keyspace_hits"]) - int(before["keyspace_hits"])
        misses = int(after["keyspace_misses"]) - int(before["keyspace_misses"])
        add(kind, "cache_lru_rps", n / wall)
        add(kind, "cache_hit_pct", 100.0 * hits / max(1, hits + misses))
        add(kind, "cache_evicted_M", int(after.get("evicted_keys", "0")) / 1e6)
        add(kind, "cache_rss_MB", settle_rss(s) / 1e6)
    finally:
        s.stop()


def _drain(sock, stop):
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            if not sock.recv(1 << 16):
                return
        except socket.timeout:
            continue
        except OSError:
            return


def run_notify(server_cls, kind, binary, workdir, run_benchmark, add, quick, log):
    s = server_cls(kind, binary, workdir, ["--notify-keyspace-events", "KEA"]).start()
    stop = threading.Event()
    socks, threads = [], []
    try:
        sub = socket.create_connection(("127.0.0.1", s.port))
        sub.sendall(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$9\r\n__key*__:*\r\n")
        trk = socket.create_connection(("127.0.0.1", s.port))
        trk.sendall(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*4\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\nON\r\n$5\r\nBCAST\r\n")
        for sock in (sub, trk):
            socks.append(sock)
            t = threading.Thread(target=_drain, args=(sock, stop), daemon=True)
            t.start()
            threads.append(t)
        n = 20_000 if quick else 100_000
        log(f"  default mix on {kind} with notifications and tracking")
        rps, cpu, total = run_benchmark(s, ["-c", "50", "-n", str(n)])
        if rps:
            add(kind, "notify_mix_rps", sorted(rps.values())[len(rps) // 2])
            add(kind, "notify_mix_cpu_per_M", cpu / total * 1e6)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=2)
        for sock in socks:
            sock.close()
        s.stop()


def run_round(server_cls, kinds, work, rnd, cli, run_benchmark, settle_rss, add, quick, log):
    for k, b in kinds:
        log(f"round {rnd}: allkeys-lru cache on {k}")
        run_lru(server_cls, k, b, f"{work}/r{rnd}-{k}-cache", cli, settle_rss, add, quick, log)
    for k, b in kinds:
        log(f"round {rnd}: notifications + tracking on {k}")
        run_notify(server_cls, k, b, f"{work}/r{rnd}-{k}-notify", run_benchmark, add, quick, log)


ROWS = [
    ("cache_lru_rps", "allkeys-lru 64MB GET/SET mix rps", "{:,.0f}", 1.0, "higher"),
    ("cache_hit_pct", "allkeys-lru hit rate % (within 2 pts)", "{:.2f}", 0.0, "info"),
    ("cache_keys_held", "keys held at 64MB (100-byte values)", "{:,.0f}", 1.0, "higher"),
    ("cache_evicted_M", "evicted keys (millions)", "{:.2f}", 0.0, "info"),
    ("cache_rss_MB", "RSS MB at maxmemory 64MB", "{:.1f}", 0.0, "info"),
    ("notify_mix_rps", "default mix rps, notifications+tracking", "{:,.0f}", 0.9, "higher"),
    ("notify_mix_cpu_per_M", "server CPU s / 1M req (notify mix)", "{:.2f}", 0.0, "info"),
]
