#!/usr/bin/env python3
"""scripts/cluster: an operator's CLI for a Sentinel deployment, and the example deployment
(sentinel-examples/) run in the background for hands-on use.
  up | down | kill-master | logs      the local example deployment; state (config copies, logs,
                                      pids) in ${VIGIL_CLUSTER_DIR:-/tmp/vigil-cluster}
  status                              nodes (role, offset, lag in bytes, fencing) and sentinels
  switchover [--to HOST:PORT]         SENTINEL FAILOVER <name> COORDINATED: no acknowledged write lost
  failover [--to HOST:PORT]           SENTINEL FAILOVER <name> (Redis's forced promotion when the
                                      master cannot hand over)
  history                             the master switches every sentinel saw (SENTINEL HISTORY)
status/switchover/failover/history work on any deployment: --sentinel HOST:PORT (repeat). Standard
library only."""
import argparse
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import demo  # noqa: E402  (Deployment, Client, info, wait_until)

STATE = os.environ.get("VIGIL_CLUSTER_DIR", "/tmp/vigil-cluster")


def load_state():
    try:
        with open(os.path.join(STATE, "cluster.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def up(args):
    st = load_state()
    if st and any(alive(p) for p in st["pids"].values()):
        print(f"already running (see {STATE}); use 'scripts/cluster down' first")
        return 1
    ns = argparse.Namespace(node_bin=os.path.join(args.bin_dir, "vigil-node"),
                            sentinel_bin=os.path.join(args.bin_dir, "vigil-sentinel"),
                            base_port=args.base_port, sentinel_base_port=args.sentinel_base_port,
                            down_after=args.down_after, detach=True)
    if args.redis:
        ns.node_bin, ns.sentinel_bin = "/usr/bin/redis-server", "/usr/bin/redis-sentinel"
    dep = demo.Deployment(ns)
    # The deployment's own temp dir becomes the cluster's state dir.
    os.makedirs(STATE, exist_ok=True)
    for name in os.listdir(dep.work):
        os.replace(os.path.join(dep.work, name), os.path.join(STATE, name))
    os.rmdir(dep.work)
    dep.work = STATE
    for p in dep.nodes + dep.sentinels:
        dep.start(p)
    state = {"nodes": dep.nodes, "sentinels": dep.sentinels,
             "pids": {str(p): proc.pid for p, proc in dep.procs.items()},
             "bins": {"node": ns.node_bin, "sentinel": ns.sentinel_bin}}
    with open(os.path.join(STATE, "cluster.json"), "w") as f:
        json.dump(state, f)
    print(f"up: nodes {dep.nodes}, sentinels {dep.sentinels}, files in {STATE}")
    print(f"try: redis-cli -p {dep.sentinels[0]} sentinel get-master-addr-by-name mymaster")
    return 0


def down(_args):
    st = load_state()
    if not st:
        print("not running")
        return 0
    for pid in st["pids"].values():
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
    demo.wait_until(lambda: not any(alive(p) for p in st["pids"].values()), 10)
    for pid in st["pids"].values():
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    os.remove(os.path.join(STATE, "cluster.json"))
    print(f"down (files kept in {STATE})")
    return 0


# ----------------------------------------------------------------------------- any deployment
class Conn:
    """A small RESP2 client for any host (the operator's commands reach every host named)."""

    def __init__(self, host, port, password=None, timeout=2.0):
        self.c = demo.Client.__new__(demo.Client)
        self.c.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.c.buf = b""
        if password:
            self.c.call("AUTH", password)

    def call(self, *args):
        return self.c.call(*args)

    def close(self):
        self.c.close()


def split_addr(a):
    host, _, port = a.rpartition(":")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def sentinel_addrs(args):
    """--sentinel (repeatable, or comma-separated), else $VIGIL_SENTINELS, else the local cluster."""
    raw = list(args.sentinel or [])
    if not raw and os.environ.get("VIGIL_SENTINELS"):
        raw = [os.environ["VIGIL_SENTINELS"]]
    addrs = [split_addr(x) for r in raw for x in r.split(",") if x.strip()]
    if not addrs:
        st = load_state()
        if st:
            addrs = [("127.0.0.1", p) for p in st["sentinels"]]
    return addrs


def node_password(args):
    if args.password is not None:
        return args.password or None
    if os.environ.get("VIGIL_NODE_PASSWORD") is not None:
        return os.environ["VIGIL_NODE_PASSWORD"] or None
    # The example deployment (scripts/cluster up) uses the seeds' password.
    return demo.PASSWORD if not args.sentinel and not os.environ.get("VIGIL_SENTINELS") and load_state() else None


def sentinel_call(args, addr, *cmd):
    c = Conn(*addr, password=args.sentinel_password)
    try:
        return c.call(*cmd)
    finally:
        c.close()


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2])) if isinstance(flat, list) else {}


def master_name(args, sentinels):
    if args.master:
        return args.master
    for a in sentinels:
        try:
            names = [pairs(m).get("name") for m in sentinel_call(args, a, "SENTINEL", "MASTERS")]
            return names[0] if len(names) == 1 else "mymaster"
        except (OSError, demo.RespError, ConnectionError):
            continue
    return "mymaster"


def first_answer(args, sentinels, *cmd):
    """The reply of the first sentinel that answers, with its address; (None, None) if none does."""
    for a in sentinels:
        try:
            return a, sentinel_call(args, a, *cmd)
        except (OSError, ConnectionError):
            continue
    return None, None


def node_info(host, port, password):
    c = Conn(host, port, password=password)
    try:
        text = c.call("INFO", "everything")
    finally:
        c.close()
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l and not l.startswith("#"))


def status(args):
    sentinels = sentinel_addrs(args)
    if not sentinels:
        print("no sentinels: give --sentinel HOST:PORT (or VIGIL_SENTINELS), or run 'scripts/cluster up'")
        return 1
    name = master_name(args, sentinels)
    pw = node_password(args)
    try:
        where, m = first_answer(args, sentinels, "SENTINEL", "MASTER", name)
    except demo.RespError as e:
        print(f"{name}: {e}")
        return 1
    if where is None:
        print("no sentinel answered")
        return 1
    m = pairs(m)
    _, reps = first_answer(args, [where], "SENTINEL", "REPLICAS", name)
    nodes = [(m["ip"], int(m["port"]))] + [(r["ip"], int(r["port"])) for r in map(pairs, reps or [])]
    infos = {}
    for h, p in nodes:
        try:
            infos[(h, p)] = node_info(h, p, pw)
        except (OSError, demo.RespError, ConnectionError):
            infos[(h, p)] = None
    master_offset = None
    for i in infos.values():
        if i and i.get("role") == "master" and (h := i.get("master_repl_offset")):
            master_offset = max(master_offset or 0, int(h))
    print(f"master {name}")
    print(f"{'node':<22}{'role':<8}{'master':<22}{'link':<6}{'offset':>12}{'lag':>10}  fencing")
    for (h, p), i in infos.items():
        addr = f"{h}:{p}"
        if i is None:
            print(f"{addr:<22}{'down':<8}")
            continue
        role = i.get("role", "?")
        if role == "slave":
            upstream = f"{i.get('master_host', '')}:{i.get('master_port', '')}"
            link = i.get("master_link_status", "-")
            offset = int(i.get("slave_repl_offset", 0))
            lag = str(max(0, master_offset - offset)) if master_offset is not None else "?"
        else:
            upstream, link, offset, lag = "-", "-", int(i.get("master_repl_offset", 0)), "-"
        fencing = i.get("fencing_state", "-")
        if fencing == "fenced":
            fencing += f" ({i.get('fencing_reason', '')})"
        print(f"{addr:<22}{role:<8}{upstream:<22}{link:<6}{offset:>12}{lag:>10}  {fencing}")
    print()
    print(f"{'sentinel':<22}{'known master':<22}{'epoch':>6}  flags")
    for a in sentinels:
        addr = f"{a[0]}:{a[1]}"
        try:
            d = pairs(sentinel_call(args, a, "SENTINEL", "MASTER", name))
            print(f"{addr:<22}{d['ip'] + ':' + d['port']:<22}{d.get('config-epoch', '?'):>6}  {d.get('flags', '')}")
        except (OSError, demo.RespError, ConnectionError, KeyError):
            print(f"{addr:<22}down")
    return 0


def current_master(args, sentinels, name):
    for a in sentinels:
        try:
            r = sentinel_call(args, a, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
            if r:
                return r[0], int(r[1])
        except (OSError, demo.RespError, ConnectionError):
            continue
    return None


def switch(args, coordinated):
    """switchover (coordinated: writes paused, the replica caught up, then handed over) or
    failover (SENTINEL FAILOVER as Redis: the sentinel promotes at once)."""
    sentinels = sentinel_addrs(args)
    if not sentinels:
        print("no sentinels: give --sentinel HOST:PORT (or VIGIL_SENTINELS), or run 'scripts/cluster up'")
        return 1
    name = master_name(args, sentinels)
    old = current_master(args, sentinels, name)
    if old is None:
        print("no sentinel answered")
        return 1
    pw = node_password(args)
    restore = []
    if args.to:
        target = split_addr(args.to)
        _, reps = first_answer(args, sentinels, "SENTINEL", "REPLICAS", name)
        known = {(r["ip"], int(r["port"])): r for r in map(pairs, reps or [])}
        if target not in known:
            print(f"{args.to} is not a known replica of {name}: {sorted(f'{h}:{p}' for h, p in known)}")
            return 1
        # The sentinel picks the replica with the lowest non-zero priority: make the others
        # unpromotable for the duration, and put them back afterwards.
        for addr in known:
            c = Conn(*addr, password=pw)
            try:
                prio = c.call("CONFIG", "GET", "replica-priority")[1]
                want = "0" if addr != target else (prio if prio != "0" else "100")
                if want != prio:
                    c.call("CONFIG", "SET", "replica-priority", want)
                    restore.append((addr, prio))
            finally:
                c.close()
        # Until the sentinel's INFO shows the priorities it could still choose another replica.
        asked = sentinels[0]
        ok = demo.wait_until(lambda: all(
            (pairs(r).get("slave-priority") == "0") == ((pairs(r)["ip"], int(pairs(r)["port"])) != target)
            for r in sentinel_call(args, asked, "SENTINEL", "REPLICAS", name)), 15, 0.1)
        if not ok:
            print("the sentinel did not see the new replica priorities in time")
    try:
        cmd = ["SENTINEL", "FAILOVER", name] + (["COORDINATED"] if coordinated else [])
        deadline = time.monotonic() + args.timeout
        while True:
            err, refused = None, False
            # The first sentinel that answers is asked; the next ones only when it is unreachable
            # (two sentinels asked at once would race for the same failover).
            for a in sentinels:
                try:
                    sentinel_call(args, a, *cmd)
                    break
                except demo.RespError as e:
                    err, refused = str(e), True
                    if "syntax" in err or "wrong number" in err:
                        print(f"{a[0]}:{a[1]} does not support a coordinated switchover ({err}); 'failover' forces one")
                        return 1
                    break
                except (OSError, ConnectionError) as e:
                    err = str(e)
            else:
                refused = True
            if not refused:
                break
            # INPROG (the previous failover is finishing) or NOGOODSLAVE (replicas still syncing)
            # clear up by themselves: ask again until the timeout.
            if time.monotonic() > deadline:
                print(f"refused: {err}")
                return 1
            time.sleep(0.2)
        print(f"{'switchover' if coordinated else 'failover'} of {name} started (from {old[0]}:{old[1]})")
        moved = demo.wait_until(lambda: all((m := current_master(args, [a], name)) is None or m != old
                                            for a in sentinels), args.timeout, 0.05)
        new = current_master(args, sentinels, name)
        if not moved or new == old:
            print(f"no switch within {args.timeout} s; the master is still {old[0]}:{old[1]}")
            return 1
        print(f"new master {new[0]}:{new[1]}")
        if args.to and new != split_addr(args.to):
            print(f"warning: the sentinels promoted {new[0]}:{new[1]}, not {args.to}")
            return 1
        return 0
    finally:
        for addr, prio in restore:
            try:
                c = Conn(*addr, password=pw)
                c.call("CONFIG", "SET", "replica-priority", prio)
                c.close()
            except (OSError, demo.RespError, ConnectionError):
                print(f"could not restore replica-priority {prio} on {addr[0]}:{addr[1]}")


def switchover(args):
    return switch(args, coordinated=True)


def failover(args):
    return switch(args, coordinated=False)


def history(args):
    """Every sentinel's SENTINEL HISTORY merged: one line per switch (epoch, time, from, to), with
    the sentinels that saw it and which of them led it."""
    sentinels = sentinel_addrs(args)
    if not sentinels:
        print("no sentinels: give --sentinel HOST:PORT (or VIGIL_SENTINELS), or run 'scripts/cluster up'")
        return 1
    merged, unsupported, answered = {}, [], 0
    for a in sentinels:
        try:
            recs = sentinel_call(args, a, "SENTINEL", "HISTORY", *([args.master] if args.master else []))
        except demo.RespError as e:
            unsupported.append(f"{a[0]}:{a[1]} ({e})")
            continue
        except (OSError, ConnectionError):
            unsupported.append(f"{a[0]}:{a[1]} (down)")
            continue
        answered += 1
        for r in map(pairs, recs):
            key = (r["master"], int(r["epoch"]), r["to"])
            e = merged.setdefault(key, {"from": r["from"], "time": int(r["time-ms"]), "seen": 0, "leader": None,
                                        "coordinated": None})
            e["seen"] += 1
            e["time"] = min(e["time"], int(r["time-ms"]))
            if r.get("role") == "leader":
                e["leader"] = f"{a[0]}:{a[1]}"
                e["coordinated"] = r.get("coordinated")
    print(f"{'master':<12}{'epoch':>6}  {'time (UTC)':<24}{'from':<22}{'to':<22}{'seen by':>8}  led by")
    for (m, epoch, to), e in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[1]["time"])):
        t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e["time"] / 1000)) + f".{e['time'] % 1000:03d}"
        led = e["leader"] or "?"
        if e["coordinated"]:
            led += " (coordinated)" if e["coordinated"] == "yes" else " (forced)"
        print(f"{m:<12}{epoch:>6}  {t:<24}{e['from']:<22}{to:<22}{e['seen']:>8}  {led}")
    for u in unsupported:
        print(f"no history from {u}")
    return 0 if answered else 1


def kill_master(_args):
    st = load_state()
    if not st:
        print("not running")
        return 1
    for s in st["sentinels"]:
        try:
            c = demo.Client(s)
            ip, port = c.call("SENTINEL", "get-master-addr-by-name", "mymaster")
            c.close()
            break
        except (OSError, demo.RespError, ConnectionError, TypeError):
            continue
    else:
        print("no sentinel answered")
        return 1
    pid = st["pids"].get(str(port))
    if not pid or not alive(pid):
        print(f"master {ip}:{port} is not running")
        return 1
    os.kill(pid, signal.SIGKILL)
    print(f"killed master {ip}:{port} (pid {pid}) with SIGKILL; watch: scripts/cluster status")
    return 0


def logs(args):
    names = sorted(n for n in os.listdir(STATE) if n.endswith(".log") and not n.startswith("stdout"))
    for n in names:
        with open(os.path.join(STATE, n), errors="replace") as f:
            lines = f.readlines()[-args.lines:]
        print(f"==> {n} <==")
        sys.stdout.writelines(lines)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["up", "down", "status", "kill-master", "logs", "switchover", "failover", "history"])
    ap.add_argument("--sentinel", action="append", metavar="HOST:PORT",
                    help="a sentinel of the deployment (repeat, or comma-separate); default $VIGIL_SENTINELS or the local cluster")
    ap.add_argument("--master", help="the master's name (default: the only one the sentinels monitor)")
    ap.add_argument("--password", help="the nodes' password (default $VIGIL_NODE_PASSWORD; the local cluster's)")
    ap.add_argument("--sentinel-password", help="the sentinels' password, if they have one")
    ap.add_argument("--to", metavar="HOST:PORT", help="switchover/failover: the replica to promote")
    ap.add_argument("--timeout", type=float, default=30, help="switchover/failover: seconds to wait for the switch")
    ap.add_argument("--bin-dir", default="")
    ap.add_argument("--base-port", type=int, default=6379)
    ap.add_argument("--sentinel-base-port", type=int, default=26379)
    ap.add_argument("--down-after", type=int, default=1000)
    ap.add_argument("--redis", action="store_true", help="run redis-server/redis-sentinel instead")
    ap.add_argument("-n", "--lines", type=int, default=15)
    args = ap.parse_args()
    return {"up": up, "down": down, "status": status, "kill-master": kill_master, "logs": logs,
            "switchover": switchover, "failover": failover, "history": history}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
