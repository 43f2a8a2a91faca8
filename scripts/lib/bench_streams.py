#!/usr/bin/env python3
"""The streams phase of scripts/bench (issue 18): XADD with MAXLEN ~ 1000, XRANGE of 100 entries,
an XREADGROUP + XACK consumer loop, and RSS per entry, each on vigil-node and redis-server.

Throughput comes from redis-benchmark where one command is the unit (XADD, XRANGE); the consumer
loop needs each reply's IDs for its XACK, so it is a small pipelined client of its own (several
connections, batches of XREADGROUP COUNT 10 then one XACK per reply) that reports entries
consumed per second. Server CPU per unit comes from /proc, which stays meaningful when the
client is the bottleneck."""

import re
import socket
import time

ID_RE = re.compile(rb"\*2\r\n\$\d+\r\n(\d+-\d+)\r\n\*")


def resp_command(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        p = p if isinstance(p, bytes) else str(p).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


class RespReader:
    """Reads whole replies from a socket (enough RESP2 for these replies)."""

    def __init__(self, sock):
        self.sock, self.buf, self.pos, self.start = sock, b"", 0, 0

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        # Keep the reply being read; drop what came before it.
        self.buf = self.buf[self.start:] + data
        self.pos -= self.start
        self.start = 0

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = self.buf[self.pos:i]
                self.pos = i + 2
                return line
            self._fill()

    def _skip(self):
        line = self._line()
        t = line[:1]
        if t in (b"+", b"-", b":"):
            return
        n = int(line[1:])
        if t == b"$":
            if n >= 0:
                while len(self.buf) - self.pos < n + 2:
                    self._fill()
                self.pos += n + 2
        elif t == b"*":
            for _ in range(max(0, n)):
                self._skip()

    def reply(self):
        """The raw bytes of the next reply."""
        self.start = self.pos
        self._skip()
        out = self.buf[self.start:self.pos]
        self.start = self.pos
        return out


def consume_loop(port, key, group, entries, conns=4, depth=8, count=10):
    """Consumes `entries` entries through XREADGROUP + XACK; returns the seconds it took."""
    socks = []
    for i in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append((s, RespReader(s), b"c%d" % i))
    read_cmd = {name: resp_command("XREADGROUP", "GROUP", group, name, "COUNT", count, "STREAMS", key, ">") for _, _, name in socks}
    done = 0
    t0 = time.monotonic()
    while done < entries:
        for s, _, name in socks:
            s.sendall(read_cmd[name] * depth)
        acks = []
        for s, r, name in socks:
            batch = []
            for _ in range(depth):
                batch.append(ID_RE.findall(r.reply()))
            acks.append((s, r, batch))
        got = 0
        for s, r, batch in acks:
            out = b"".join(resp_command("XACK", key, group, *ids) for ids in batch if ids)
            n = sum(1 for ids in batch if ids)
            got += sum(len(ids) for ids in batch)
            if out:
                s.sendall(out)
                for _ in range(n):
                    r.reply()
        if got == 0:
            break
        done += got
    elapsed = time.monotonic() - t0
    for s, _, _ in socks:
        s.close()
    return elapsed, done


def run_round(server, cli, run_benchmark, settle_rss, add, quick, log):
    """One round of every stream measurement on `server` (a started ServerProcess)."""
    n_add = 50000 if quick else 200000
    n_range = 20000 if quick else 100000
    n_loop = 50000 if quick else 300000
    kind = server.kind
    # XADD with approximate trimming, plain and pipelined.
    for label, extra in (("xadd", []), ("xadd_p16", ["-P", "16"])):
        rps, cpu, total = run_benchmark(server, ["-c", "50", "-n", str(n_add * (4 if extra else 1))] + extra +
                                        ["xadd", "bench:add", "maxlen", "~", "1000", "*", "field", "value"])
        if rps:
            add(kind, f"{label}_rps", max(rps.values()))
            add(kind, f"{label}_cpu_per_M", cpu / total * 1e6)
    # XRANGE of 100 entries out of 1000.
    cli(server.port, "del", "bench:range")
    run_benchmark(server, ["-c", "10", "-n", "1000", "xadd", "bench:range", "*", "field", "value", "other", "12345"])
    rps, cpu, total = run_benchmark(server, ["-c", "50", "-n", str(n_range), "xrange", "bench:range", "-", "+", "count", "100"])
    if rps:
        add(kind, "xrange100_rps", max(rps.values()))
        add(kind, "xrange100_cpu_per_M", cpu / total * 1e6)
    # XREADGROUP COUNT 10 + XACK, until `n_loop` entries went through the group.
    cli(server.port, "del", "bench:q")
    run_benchmark(server, ["-c", "50", "-P", "16", "-n", str(n_loop), "xadd", "bench:q", "*", "job", "payload-0123456789"])
    cli(server.port, "xgroup", "create", "bench:q", "g", "0")
    cpu0 = server.cpu()
    secs, done = consume_loop(server.port, "bench:q", "g", n_loop)
    cpu1 = server.cpu()
    pending = cli(server.port, "xpending", "bench:q", "g").split("\n")[0]
    if done:
        add(kind, "xreadgroup_ack_entries_per_s", done / secs)
        add(kind, "xreadgroup_ack_cpu_per_M", (cpu1 - cpu0) / done * 1e6)
    log(f"  {kind}: consumed {done} entries in {secs:.2f}s, pending left {pending}")


def run_memory(server, run_benchmark, settle_rss, add, quick):
    """RSS per entry: 1M small entries (one field), no trimming, on a freshly started server (after
    a FLUSHALL the allocator's freed pages would be reused and hide the entries' cost)."""
    kind = server.kind
    base = settle_rss(server)
    n_mem = 200000 if quick else 1000000
    run_benchmark(server, ["-c", "50", "-P", "16", "-n", str(n_mem), "xadd", "bench:mem", "*", "field", "value"])
    add(kind, "stream_bytes_per_entry", (settle_rss(server) - base) / n_mem)


ROWS = [
    ("xadd_rps", "XADD MAXLEN ~ 1000 rps (-c 50)", "{:,.0f}", 1.0, "higher"),
    ("xadd_p16_rps", "XADD MAXLEN ~ 1000 rps (-P 16)", "{:,.0f}", 1.0, "higher"),
    ("xadd_cpu_per_M", "server CPU s / 1M XADD (-c 50)", "{:.2f}", 1.0, "lower"),
    ("xadd_p16_cpu_per_M", "server CPU s / 1M XADD (-P 16)", "{:.2f}", 1.0, "lower"),
    ("xrange100_rps", "XRANGE COUNT 100 rps", "{:,.0f}", 1.0, "higher"),
    ("xrange100_cpu_per_M", "server CPU s / 1M XRANGE COUNT 100", "{:.2f}", 1.0, "lower"),
    ("xreadgroup_ack_entries_per_s", "XREADGROUP+XACK entries/s", "{:,.0f}", 1.0, "higher"),
    ("xreadgroup_ack_cpu_per_M", "server CPU s / 1M entries read+acked", "{:.2f}", 1.0, "lower"),
    ("stream_bytes_per_entry", "RSS bytes / stream entry (1M)", "{:.1f}", 1.2, "lower"),
]
