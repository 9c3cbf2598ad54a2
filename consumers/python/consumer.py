#!/usr/bin/python3
"""ebpfperf ring/perf buffer consumer in Python with BCC (Debian python3-bpfcc).

Counts every event per producer CPU and its latency (CLOCK_MONOTONIC now minus the event's
bpf_ktime_get_ns) and answers in the line protocol of docs/consumers.md.

How it reaches the pinned map: BCC's front end (bcc.BPF) gets its tables by compiling C source with
clang and the running kernel's headers, even for a pinned table (BPF_TABLE_PINNED); where no kernel
headers exist (no /lib/modules/$(uname -r)/build, no CONFIG_IKHEADERS) bcc.BPF() cannot be built at
all. So this consumer uses BCC's own runtime library directly, through BCC's Python bindings
(bcc.libbcc): bpf_obj_get on the pinned path, then the calls that BPF.ring_buffer_poll() and
PerfEventArray.open_perf_buffer()/BPF.perf_buffer_poll() make (bpf_new_ringbuf + bpf_poll_ringbuf;
bpf_open_perf_buffer_opts per CPU + perf_reader_poll), with a ctypes callback into Python per event,
as in any BCC tool. Only the compile step is left out; the per-event path is BCC's.
"""
import ctypes as ct
import os
import sys
import threading
import time

from bcc.libbcc import lib, _RAW_CB_TYPE, _LOST_CB_TYPE, _RINGBUF_CB_TYPE, bcc_perf_buffer_opts
from bcc.utils import get_online_cpus
from bcc.version import __version__ as bcc_version

MARKER = 0xFFFFFFFF
SUB = 32  # log-linear histogram: exact below 64 ns, then 32 sub-buckets per power of two


class Event(ct.Structure):  # bpf/micro.shared.h: struct micro_event
    _fields_ = [("ts", ct.c_uint64), ("cpu", ct.c_uint32), ("seq", ct.c_uint32)]


def bucket(v):
    if v < 64:
        return v
    e = v.bit_length() - 1
    return 64 + (e - 6) * SUB + ((v >> (e - 5)) & (SUB - 1))


def bucket_value(i):
    if i < 64:
        return float(i)
    e = (i - 64) // SUB + 6
    width = 1 << (e - 5)
    return (SUB + (i - 64) % SUB) * width + width / 2


class Counts:
    def __init__(self):
        self.consumed = {}
        self.lost = {}
        self.hist = {}
        self.markers = 0
        self.short = 0
        self.last = 0

    def event(self, data, size):
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if size < ct.sizeof(Event):
            self.short += 1
            return
        e = ct.cast(data, ct.POINTER(Event)).contents
        if e.seq == MARKER:
            self.markers += 1
            return
        self.consumed[e.cpu] = self.consumed.get(e.cpu, 0) + 1
        self.last = now
        b = bucket(now - e.ts if now > e.ts else 0)
        self.hist[b] = self.hist.get(b, 0) + 1

    def report(self):
        out = []
        for cpu in sorted(set(self.consumed) | set(self.lost)):
            out.append("cpu %d %d %d" % (cpu, self.consumed.get(cpu, 0), self.lost.get(cpu, 0)))
        out.append("markers %d" % self.markers)
        out.append("short %d" % self.short)
        out.append("last %d" % self.last)
        for b in sorted(self.hist):
            out.append("hist %.1f %d" % (bucket_value(b), self.hist[b]))
        out.append("done")
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()


def open_ringbuf(fd, counts):
    def cb(_ctx, data, size):
        counts.event(data, size)
        return 0

    fn = _RINGBUF_CB_TYPE(cb)
    mgr = lib.bpf_new_ringbuf(fd, fn, None)
    if not mgr:
        raise OSError(ct.get_errno(), "bpf_new_ringbuf")
    return (lambda t: lib.bpf_poll_ringbuf(mgr, t)), (lambda: lib.bpf_consume_ringbuf(mgr)), [fn]


def open_perfbuf(fd, pages, counts):
    readers, keep = [], []
    for cpu in get_online_cpus():
        def raw(_ctx, data, size):
            counts.event(data, size)

        def lost(_ctx, n, cpu=cpu):
            counts.lost[cpu] = counts.lost.get(cpu, 0) + n

        fn, lost_fn = _RAW_CB_TYPE(raw), _LOST_CB_TYPE(lost)
        opts = bcc_perf_buffer_opts()
        opts.pid, opts.cpu, opts.wakeup_events = -1, cpu, 1
        reader = lib.bpf_open_perf_buffer_opts(fn, lost_fn, None, pages, ct.byref(opts))
        if not reader:
            raise OSError(ct.get_errno(), "bpf_open_perf_buffer_opts (CPU %d)" % cpu)
        key, value = ct.c_int(cpu), ct.c_int(lib.perf_reader_fd(reader))
        if lib.bpf_update_elem(fd, ct.byref(key), ct.byref(value), 0) < 0:
            raise OSError(ct.get_errno(), "installing the perf buffer of CPU %d" % cpu)
        readers.append(reader)
        keep += [fn, lost_fn]
    arr = (ct.c_void_p * len(readers))(*readers)
    return (lambda t: lib.perf_reader_poll(len(readers), arr, t)), (lambda: lib.perf_reader_consume(len(readers), arr)), keep


def main():
    path, mech = os.environ.get("EBPFPERF_MAP"), os.environ.get("EBPFPERF_MECHANISM")
    if not path or not mech:
        sys.stderr.write("ebpfperf-consumer-python: EBPFPERF_MAP and EBPFPERF_MECHANISM must be set (see docs/consumers.md)\n")
        return 2
    fd = lib.bpf_obj_get(path.encode())
    if fd < 0:
        sys.stderr.write("ebpfperf-consumer-python: bpf_obj_get(%s): %s\n" % (path, os.strerror(ct.get_errno())))
        return 1
    counts = Counts()
    if mech == "perfbuf":
        poll, consume, _keep = open_perfbuf(fd, int(os.environ.get("EBPFPERF_PERF_PAGES", "64")), counts)
    else:
        poll, consume, _keep = open_ringbuf(fd, counts)
    stop = threading.Event()

    def read_stdin():
        for line in sys.stdin:
            if line.strip() == "stop":
                stop.set()
                return
        os._exit(3)  # the suite is gone

    threading.Thread(target=read_stdin, daemon=True).start()
    sys.stdout.write("# bcc %s (libbcc via bcc.libbcc; python %s)\nready\n" % (bcc_version, sys.version.split()[0]))
    sys.stdout.flush()
    while not stop.is_set():
        poll(100)
    consume()
    counts.report()
    sys.stdin.read()  # wait for the suite to close stdin (it reads our CPU time first)
    return 0


if __name__ == "__main__":
    sys.exit(main())
