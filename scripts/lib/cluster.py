#!/usr/bin/env python3
"""scripts/cluster: run the example deployment (sentinel-examples/) in the background for hands-on
use. up | down | status | kill-master | logs. State (config copies, logs, pids) lives in one
working directory, ${VIGIL_CLUSTER_DIR:-/tmp/vigil-cluster}. Standard library only."""
import argparse
import json
import os
import signal
import sys

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


def status(_args):
    st = load_state()
    if not st:
        print("not running")
        return 1
    print(f"{'node':<16}{'role':<8}{'master':<18}{'link':<6}{'offset':>10}{'lag':>6}")
    for p in st["nodes"]:
        try:
            i = demo.info(p)
        except (OSError, demo.RespError, ConnectionError):
            print(f"{'127.0.0.1:' + str(p):<16}{'down':<8}")
            continue
        role = i.get("role", "?")
        master = f"{i.get('master_host', '')}:{i.get('master_port', '')}" if role == "slave" else "-"
        link = i.get("master_link_status", "-") if role == "slave" else "-"
        offset = i.get("slave_repl_offset") if role == "slave" else i.get("master_repl_offset", "?")
        lag = "-"
        if role == "master":
            lags = [kv.split("=")[1] for k, v in i.items() if k.startswith("slave") and k[5:].isdigit()
                    for kv in v.split(",") if kv.startswith("lag=")]
            lag = max(lags, key=int) if lags else "-"
        print(f"{'127.0.0.1:' + str(p):<16}{role:<8}{master:<18}{link:<6}{offset:>10}{lag:>6}")
    print()
    print(f"{'sentinel':<18}{'known master':<18}{'epoch':>6}  flags")
    for p in st["sentinels"]:
        try:
            c = demo.Client(p)
            m = c.call("SENTINEL", "MASTER", "mymaster")
            d = dict(zip(m[::2], m[1::2]))
            c.close()
            epoch = d.get("config-epoch", "?")
            print(f"{'127.0.0.1:' + str(p):<18}{d['ip'] + ':' + d['port']:<18}{epoch:>6}  {d.get('flags', '')}")
        except (OSError, demo.RespError, ConnectionError):
            print(f"{'127.0.0.1:' + str(p):<18}down")
    return 0


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
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("command", choices=["up", "down", "status", "kill-master", "logs"])
    ap.add_argument("--bin-dir", default="")
    ap.add_argument("--base-port", type=int, default=6379)
    ap.add_argument("--sentinel-base-port", type=int, default=26379)
    ap.add_argument("--down-after", type=int, default=1000)
    ap.add_argument("--redis", action="store_true", help="run redis-server/redis-sentinel instead")
    ap.add_argument("-n", "--lines", type=int, default=15)
    args = ap.parse_args()
    return {"up": up, "down": down, "status": status, "kill-master": kill_master, "logs": logs}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
