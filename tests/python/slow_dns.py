"""A tiny authoritative DNS server for the multi-host test: answers A queries for the names it is
given, every answer DELAY seconds late (a DNS server in trouble), NXDOMAIN for other names, and an
empty NOERROR for other types (glibc asks AAAA beside A). Each query is logged when it arrives and
again when it is answered, with monotonic times, so the test can check that the slow path was really taken.

    python3 slow_dns.py <listen-ip> <delay-seconds> <log-file> name=ip [name=ip ...]
"""
import socket
import struct
import sys
import threading
import time


def parse_question(data):
    """(name, qtype, end offset) of the first question; raises on malformed input."""
    labels, i = [], 12
    while True:
        n = data[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            raise ValueError("compressed question")
        labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, _qclass = struct.unpack("!HH", data[i:i + 4])
    return ".".join(labels).lower().rstrip("."), qtype, i + 4


def answer(data, records):
    qid, flags = struct.unpack("!HH", data[:4])
    name, qtype, end = parse_question(data)
    question = data[12:end]
    rd = flags & 0x0100
    ip = records.get(name)
    if ip is None:
        header = struct.pack("!HHHHHH", qid, 0x8080 | rd | 3, 1, 0, 0, 0)  # NXDOMAIN
        return name, qtype, header + question
    if qtype != 1:
        header = struct.pack("!HHHHHH", qid, 0x8480 | rd, 1, 0, 0, 0)  # no records of that type
        return name, qtype, header + question
    header = struct.pack("!HHHHHH", qid, 0x8480 | rd, 1, 1, 0, 0)
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(ip)
    return name, qtype, header + question + rr


def main():
    listen, delay, log_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    records = dict(a.split("=", 1) for a in sys.argv[4:])
    records = {k.lower(): v for k, v in records.items()}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((listen, 53))
    log = open(log_path, "a", buffering=1)
    lock = threading.Lock()

    def reply_later(data, peer, received):
        try:
            name, qtype, out = answer(data, records)
        except Exception as e:  # a malformed query gets no answer
            with lock:
                log.write("bad %r\n" % e)
            return
        with lock:
            log.write("query %s %d %.3f\n" % (name, qtype, received))
        time.sleep(delay)
        sock.sendto(out, peer)
        with lock:
            log.write("answered %s %d %.3f %.3f\n" % (name, qtype, received, time.monotonic()))

    with lock:
        log.write("ready\n")
    while True:
        data, peer = sock.recvfrom(4096)
        threading.Thread(target=reply_later, args=(data, peer, time.monotonic()), daemon=True).start()


if __name__ == "__main__":
    main()
