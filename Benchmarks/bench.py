#!/usr/bin/env python3
"""`make bench`: measures vkb-bridge and two baselines on the same input path, prints every
figure with its ratios, checks the targets, and exits non-zero if one fails.

The three relays (all read raw struct input_event frames from their own FIFO and send
8-byte VKBShiftBitmap packets over loopback TCP):
  vkb   vkb-bridge run --input-fifo (release build, default settings)
  c     Benchmarks/relay.c, the limit: read an event, write the packet, nothing else
  py    Benchmarks/relay.py, the peer: a straightforward Python relay
The flood also runs vkb-bridge (--hidraw-fifo, a binding on button 97) and the C relay
(--hidraw) on what a stick's hidraw node delivers: one HID input report per frame.

benchtool (Benchmarks/benchtool.c) writes the input frames and is the server; it takes
both timestamps of a latency sample itself (CLOCK_MONOTONIC). CPU time, context switches,
RSS and open files are read from /proc for each relay process (all of its threads).

Figures: 1 latency, 2 flood cost, 3 replay throughput, 4 reconnect-to-state, 5 idle cost,
6 leak check. See docs/performance.md.
"""

import argparse
import json
import os
import random
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUTTON_CODE = 0x2C3  # VKB button 20 (BTN_TRIGGER_HAPPY4) drives shift1, held
HID_BUTTON = 97  # the hidraw relays' button (benchtool's HID_BUTTON): above evdev's 80
NAMES = {"vkb": "vkb-bridge", "c": "C relay (limit)", "py": "Python relay (peer)",
         "vkbm": "vkb-bridge, masked", "cm": "C relay, masked",
         "vkbh": "vkb-bridge, hidraw", "ch": "C relay, hidraw"}
# Relays given what evdev queues for a client that set EVIOCSMASK to EV_KEY (as the
# evdev backend does): no axis-only frames at all. The Python peer sets no mask.
MASKED = {"vkbm": "vkb", "cm": "c"}
# Relays given a stick's hidraw reports (every frame, axes and all: hidraw has no mask).
HIDRAW = {"vkbh": "vkb", "ch": "c"}
MB = 1_000_000


# ---------------------------------------------------------------- processes


class Child:
    """A child process whose stdout is read line by line with deadlines."""

    def __init__(self, argv, stdin=False, log=None):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log if log is not None else subprocess.DEVNULL,
        )
        self.pid = self.proc.pid
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def line(self, timeout):
        """The next stdout line as JSON, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise BenchError(f"{Path(self.argv[0]).name} exited ({self.proc.poll()})")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        value = json.loads(line)
        if isinstance(value, dict) and "error" in value:
            raise BenchError(f"{Path(self.argv[0]).name}: {value['error']}")
        return value

    def expect(self, timeout, what):
        value = self.line(timeout)
        if value is None:
            raise BenchError(f"no {what} from {Path(self.argv[0]).name} within {timeout} s")
        return value

    def send(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.selector.close()
        self.proc.stdout.close()
        if self.proc.stdin:
            self.proc.stdin.close()

    def terminate(self, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


class BenchError(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="vkb-bench-"))
        self.children = []
        self.bridge = Path(args.bin_dir) / "vkb-bridge"
        self.replay = Path(args.bin_dir) / "ReplayThroughput"
        self.tool = Path(args.tool)
        self.relay_c = Path(args.relay_c)
        self.logs = open(self.tmp / "relays.log", "wb")
        self.descriptor = self.tmp / "report_descriptor"
        self.report = None  # {"report_length", "byte", "bit"} of HID_BUTTON, once written

    def close(self):
        for child in self.children:
            child.kill()
        self.logs.close()
        if self.args.keep_tmp:
            print(f"(kept {self.tmp})")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def spawn(self, argv, stdin=False, log=False):
        child = Child([str(a) for a in argv], stdin=stdin, log=self.logs if log else None)
        self.children.append(child)
        return child

    def forget(self, child):
        child.kill()
        self.children.remove(child)

    def fifo(self, name):
        path = self.tmp / f"{name}.fifo"
        if not path.exists():
            os.mkfifo(path)
        return path

    def bridge_config(self, name, port, button=f"code = {BUTTON_CODE}"):
        path = self.tmp / f"{name}.toml"
        path.write_text(
            f'[server]\nhost = "127.0.0.1"\nport = {port}\n\n'
            f'[[binding]]\nbit = "shift1"\n{button}\nmode = "hold"\n'
        )
        return path

    def hid_report(self):
        """Writes the hidraw relays' report descriptor once; where HID_BUTTON is in a report."""
        if self.report is None:
            out = subprocess.run([str(self.tool), "descriptor", str(self.descriptor)], capture_output=True,
                                 text=True, check=True, timeout=10)
            self.report = json.loads(out.stdout)
        return self.report

    def start_relay(self, kind, fifo, port, name=None):
        """Starts one relay reading `fifo` and sending to 127.0.0.1:`port`."""
        name = name or kind
        if kind in HIDRAW:
            r = self.hid_report()
            if HIDRAW[kind] == "vkb":
                config = self.bridge_config(name, port, button=f"button = {HID_BUTTON}")
                argv = [self.bridge, "run", "--config", config, "--hidraw-fifo", fifo,
                        "--report-descriptor", self.descriptor, "--log-level", "notice"]
            else:
                argv = [self.relay_c, "--hidraw", fifo, port, r["report_length"], r["byte"], r["bit"]]
            return self.spawn(argv, log=True)
        kind = MASKED.get(kind, kind)
        if kind == "vkb":
            config = self.bridge_config(name, port)
            argv = [self.bridge, "run", "--config", config, "--input-fifo", fifo, "--log-level", "notice"]
        elif kind == "c":
            argv = [self.relay_c, fifo, port, hex(BUTTON_CODE)]
        else:
            argv = [self.args.python, ROOT / "Benchmarks" / "relay.py", fifo, port, hex(BUTTON_CODE)]
        return self.spawn(argv, log=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def key_frame(pressed):
    now = time.monotonic()
    sec, usec = int(now), int(now % 1 * 1e6)
    e = struct.Struct("qqHHi")
    return (e.pack(sec, usec, 4, 4, 0x90000 + 20) + e.pack(sec, usec, 1, BUTTON_CODE, pressed)
            + e.pack(sec, usec, 0, 0, 0))


# ---------------------------------------------------------------- /proc


def sample(pid):
    """CPU time (ns, all threads, from schedstat), context switches, RSS, peak RSS, fds."""
    cpu = switches = 0
    task_dir = f"/proc/{pid}/task"
    for tid in os.listdir(task_dir):
        try:
            with open(f"{task_dir}/{tid}/schedstat") as f:
                cpu += int(f.read().split()[0])
            with open(f"{task_dir}/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "Pss":
                fields["Pss"] = value.strip()
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    kb = lambda key: int(fields[key].split()[0]) * 1024  # noqa: E731
    return {
        "cpu_ns": cpu,
        "switches": switches,
        "threads": int(fields["Threads"]),
        "rss": kb("VmRSS"),
        "anon": kb("RssAnon"),
        "pss": kb("Pss"),
        "hwm": kb("VmHWM"),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


# ---------------------------------------------------------------- figures


def session_figures(b, results):
    """Figures 1, 2 and 5 on one set of long-running relays."""
    a = b.args
    kinds = ["vkb", "c", "py", "vkbm", "cm", "vkbh", "ch"]
    timed = ["vkb", "c", "py"]
    flag = lambda k: ":masked" if k in MASKED else ":hidraw" if k in HIDRAW else ""  # noqa: E731
    tool = b.spawn([b.tool, "session"] + [f"{k}:{b.fifo('s-' + k)}{flag(k)}" for k in kinds], stdin=True)
    ports = tool.expect(5, "ports")["ports"]
    relays = {k: b.start_relay(k, b.fifo("s-" + k), ports[k]) for k in kinds}
    tool.send("accept")
    tool.expect(30, "connections")
    for _ in range(2):
        tool.send("toggle")
        tool.expect(10, "toggle")

    # 1. Latency: paced like a pilot's presses, then back to back (the CPUs never idle).
    for name, gap_min, gap_max in (("latency", a.gap_min_us, a.gap_max_us), ("latency_busy", 0, 0)):
        print(f"[1] latency: {a.latency_samples} state changes per relay, interleaved, "
              f"{gap_min}–{gap_max} µs apart ...", flush=True)
        out = b.tmp / name
        tool.send(f"latency {a.latency_samples} {a.latency_warmup} {gap_min} {gap_max} {out}")
        report = tool.expect(600, "latency report")["latency"]
        latency = {"gap_us": [gap_min, gap_max]}
        values = {}
        for k in timed:
            values[k] = sorted(int(x) / 1000 for x in open(f"{out}.{k}"))
            latency[k] = {
                "samples": len(values[k]),
                "p50_us": percentile(values[k], 50),
                "p99_us": percentile(values[k], 99),
                "max_us": values[k][-1],
                "unexpected": report[k]["unexpected"],
                "dropped": report[k]["dropped"],
            }
            if report[k]["unexpected"] or report[k]["dropped"]:
                raise BenchError(f"latency: {NAMES[k]} sent unexpected packets or fell behind: {report[k]}")
        results[name] = latency
        results[name + "_values"] = values

    # 2. Flood.
    print(f"[2] flood: {a.flood_seconds} s of a 1 kHz stick, 8 axes moving, a button change every 500 ms ...",
          flush=True)
    before = {k: sample(relays[k].pid) for k in kinds}
    tool.send(f"flood {a.flood_seconds} 1000 8 500")
    report = tool.expect(a.flood_seconds + 60, "flood report")["flood"]
    after = {k: sample(relays[k].pid) for k in kinds}
    flood = {"events": report["events"], "seconds": report["seconds"], "late_frames": report["late_frames"],
             "button_changes": report["button_changes"], "report_length": b.hid_report()["report_length"]}
    for k in kinds:
        r = report["relays"][k]
        cpu_ms = (after[k]["cpu_ns"] - before[k]["cpu_ns"]) / 1e6
        flood[k] = {
            "cpu_ms": cpu_ms,
            "core_percent": cpu_ms / (report["seconds"] * 1000) * 100,
            "switches": after[k]["switches"] - before[k]["switches"],
            "peak_rss": after[k]["hwm"],
            "packets": r["packets"],
            "dropped_frames": r["dropped_frames"],
        }
        if r["dropped_frames"]:
            raise BenchError(f"flood: {NAMES[k]} fell behind ({r['dropped_frames']} frames did not fit its FIFO)")
        if r["packets"] != report["button_changes"]:
            raise BenchError(f"flood: {NAMES[k]} sent {r['packets']} packets for {report['button_changes']} changes")
    results["flood"] = flood

    # 5. Idle.
    print(f"[5] idle: {a.idle_seconds} s connected, no input ...", flush=True)
    time.sleep(1)  # let the last acknowledgement polls finish
    tool.send("count")
    tool.expect(5, "count")
    before = {k: sample(relays[k].pid) for k in kinds}
    time.sleep(a.idle_seconds)
    after = {k: sample(relays[k].pid) for k in kinds}
    tool.send("count")
    packets = tool.expect(5, "count")["packets"]
    idle = {"seconds": a.idle_seconds}
    for k in kinds:
        cpu_ms = (after[k]["cpu_ns"] - before[k]["cpu_ns"]) / 1e6
        idle[k] = {
            "cpu_ms": cpu_ms,
            "cpu_ms_per_min": cpu_ms * 60 / a.idle_seconds,
            "wakeups": after[k]["switches"] - before[k]["switches"],
            "packets": packets[k],
            "rss": after[k]["rss"],
            "pss": after[k]["pss"],
            "anon": after[k]["anon"],
            "threads": after[k]["threads"],
            "fds": after[k]["fds"],
        }
    results["idle"] = idle
    tool.send("quit")
    for child in [tool] + list(relays.values()):
        b.forget(child)


def reconnect_figure(b, results):
    """Figure 4: time from a restarted server's listen() to its receipt of the current state."""
    a = b.args
    print(f"[4] reconnect: {a.reconnect_cycles} SIGKILL/restart cycles, down for a random 0–{a.down_max_s} s ...",
          flush=True)
    reconnect = {}
    for kinds, cycles in ((["vkb", "c"], a.reconnect_cycles), (["py"], a.python_cycles)):
        ports = {k: free_port() for k in kinds}
        writers = {k: os.open(b.fifo("r-" + k), os.O_RDWR | os.O_NONBLOCK) for k in kinds}
        servers = {k: b.spawn([b.tool, "serve", ports[k]]) for k in kinds}
        for k in kinds:
            servers[k].expect(5, "listen")
        relays = {k: b.start_relay(k, b.fifo("r-" + k), ports[k], name="r-" + k) for k in kinds}
        for k in kinds:
            os.write(writers[k], key_frame(1))  # the state every restarted server must get: shift1
            servers[k].expect(30, "first connection")
        time.sleep(0.5)  # the press reaches every relay (the first packet may predate it)
        samples = {k: [] for k in kinds}
        missed = {k: 0 for k in kinds}
        rng = random.Random(4)
        for _ in range(cycles):
            for k in kinds:
                b.forget(servers[k])
            time.sleep(rng.uniform(0, a.down_max_s))
            servers = {k: b.spawn([b.tool, "serve", ports[k]]) for k in kinds}
            listened = {k: servers[k].expect(5, "listen") for k in kinds}
            for k in kinds:
                got = servers[k].line(a.reconnect_timeout_s)
                if got is None:
                    missed[k] += 1
                    continue
                if got.get("state") != 1:
                    raise BenchError(f"reconnect: {NAMES[k]} sent state {got.get('state')}, not the current state 1")
                samples[k].append((got["packet_ns"] - listened[k]["listen_ns"]) / 1e6)
        for k in kinds:
            values = sorted(samples[k])
            reconnect[k] = {
                "cycles": cycles,
                "received": len(values),
                "missed": missed[k],
                "p50_ms": percentile(values, 50) if values else None,
                "p99_ms": percentile(values, 99) if values else None,
                "max_ms": values[-1] if values else None,
            }
            b.forget(servers[k])
            b.forget(relays[k])
            os.close(writers[k])
    reconnect["down_max_s"] = a.down_max_s
    reconnect["timeout_s"] = a.reconnect_timeout_s
    results["reconnect"] = reconnect


def leak_figure(b, results):
    """Figure 6: RSS and open files after N reconnects versus after 10."""
    a = b.args
    n = a.leak_reconnects
    print(f"[6] leak: {n} reconnects (the server closes each connection after its first packet) ...", flush=True)
    kinds = ["vkb", "c", "py"]
    ports = {k: free_port() for k in kinds}
    servers = {k: b.spawn([b.tool, "serve", ports[k], "close-after-packet", "pause-at", f"10,{n}",
                           "feed", b.fifo("l-" + k)], stdin=True) for k in kinds}
    for k in kinds:
        servers[k].expect(5, "listen")
    # The servers hold the FIFOs' write ends open, so the relays never see end of file.
    relays = {k: b.start_relay(k, b.fifo("l-" + k), ports[k], name="l-" + k) for k in kinds}
    leak = {}
    pending = set(kinds)
    deadline = time.monotonic() + a.leak_timeout_s
    while pending:
        for k in list(pending):
            while True:
                got = servers[k].line(0.05)
                if got is None:
                    break
                if "paused" not in got:
                    continue
                time.sleep(0.2)  # settle: the relay is connected and has sent its state
                s = sample(relays[k].pid)
                leak.setdefault(k, {})[str(got["paused"])] = {"rss": s["rss"], "fds": s["fds"]}
                servers[k].send("go")
                if got["paused"] == n:
                    pending.discard(k)
                    break
        if time.monotonic() > deadline:
            raise BenchError(f"leak: {', '.join(NAMES[k] for k in pending)} did not reach {n} reconnects "
                             f"within {a.leak_timeout_s} s")
    for k in kinds:
        first, last = leak[k]["10"], leak[k][str(n)]
        leak[k] = {
            "rss_10": first["rss"], f"rss_{n}": last["rss"],
            "rss_growth_percent": (last["rss"] - first["rss"]) / first["rss"] * 100,
            "fds_10": first["fds"], f"fds_{n}": last["fds"],
        }
        b.forget(servers[k])
        b.forget(relays[k])
    leak["reconnects"] = n
    results["leak"] = leak


def replay_figure(b, results):
    a = b.args
    print(f"[3] replay throughput: parse + map of {a.replay_events} events, median of {a.replay_rounds} ...",
          flush=True)
    out = subprocess.run([str(b.replay), str(a.replay_events), str(a.replay_rounds)], capture_output=True,
                         text=True, check=True, timeout=300)
    results["replay"] = json.loads(out.stdout)


# ---------------------------------------------------------------- report


def ratio(x, y):
    if x is None or y is None or y == 0:
        return "—"
    return f"{x / y:.2f}×"


def fmt(v, unit="", digits=1):
    if v is None:
        return "never"
    return f"{v:,.{digits}f}{unit}"


def evaluate(results, args):
    """Prints every figure and returns (table lines for the docs, failed targets)."""
    lines = []
    failures = []

    def out(text=""):
        print(text)
        lines.append(text)

    def target(ok, text):
        mark = "PASS" if ok else "FAIL"
        out(f"  [{mark}] {text}")
        if not ok:
            failures.append(text)

    out(f"1. Added latency, input event written → packet read by the server "
        f"({results['latency']['vkb']['samples']:,} state changes per relay, loopback)")
    for name, title in (("latency", "paced like a pilot's presses, {0}–{1} µs apart (idle CPUs halt in between)"),
                        ("latency_busy", "back to back (the CPUs never idle)")):
        L = results[name]
        out(f"   {title.format(*L['gap_us'])}:")
        out(f"   {'':22} {'p50 µs':>9} {'p99 µs':>9} {'max µs':>9}")
        for k in ("vkb", "c", "py"):
            out(f"   {NAMES[k]:22} {L[k]['p50_us']:9.1f} {L[k]['p99_us']:9.1f} {L[k]['max_us']:9.1f}")
        for k in ("c", "py"):
            out(f"   {'vkb-bridge / ' + k:22} {ratio(L['vkb']['p50_us'], L[k]['p50_us']):>9} "
                f"{ratio(L['vkb']['p99_us'], L[k]['p99_us']):>9} {ratio(L['vkb']['max_us'], L[k]['max_us']):>9}")
        out(f"   {'vkb-bridge − c':22} {L['vkb']['p50_us'] - L['c']['p50_us']:+9.1f} "
            f"{L['vkb']['p99_us'] - L['c']['p99_us']:+9.1f}   (what vkb-bridge adds to the limit)")
        target(L["vkb"]["p99_us"] <= 1.2 * L["c"]["p99_us"],
               f"latency p99 ≤ 1.2× the C relay's: {L['vkb']['p99_us'] / L['c']['p99_us']:.2f}×")
    out()

    F = results["flood"]
    out(f"2. Flood cost: {F['seconds']:.0f} s of a 1 kHz stick, 8 axes moving "
        f"({F['events'] / F['seconds']:,.0f} events/s, {F['button_changes']} button changes)")
    changes = F["button_changes"]
    out(f"   {'':22} {'CPU ms':>9} {'% core':>9} {'wake-ups':>9} {'per chg':>8} {'peak RSS':>10}")
    for k in ("vkb", "c", "py", "vkbm", "cm", "vkbh", "ch"):
        out(f"   {NAMES[k]:22} {F[k]['cpu_ms']:9.1f} {F[k]['core_percent']:9.3f} {F[k]['switches']:9,d} "
            f"{F[k]['switches'] / changes:8.2f} {F[k]['peak_rss'] / MB:8.1f}MB")
    for k, base in (("vkb", "c"), ("vkb", "py"), ("vkbm", "cm"), ("vkbm", "py"), ("vkbh", "ch")):
        out(f"   {k + ' / ' + base:22} {ratio(F[k]['cpu_ms'], F[base]['cpu_ms']):>9} {'':9} "
            f"{ratio(F[k]['switches'], F[base]['switches']):>9} {'':8} {ratio(F[k]['peak_rss'], F[base]['peak_rss']):>10}")
    out("   (per chg: wake-ups per button change; masked, every wake-up is one)")
    out("   (masked: given only what evdev queues for a client whose EVIOCSMASK lets EV_KEY through, as")
    out("    vkb-bridge's evdev backend sets it; axis-only frames then wake nobody. The Python peer sets no mask.)")
    out(f"   (hidraw: one {F['report_length']}-byte HID input report per frame, as a stick's hidraw node")
    out(f"    delivers it, with the shift on button {HID_BUTTON}: buttons above 80 exist only there, and hidraw has no mask)")
    if F["late_frames"]:
        out(f"   (the writer was late for {F['late_frames']} of {F['seconds'] * 1000:.0f} frames: the machine is busy)")
    target(F["vkb"]["core_percent"] <= 1.0,
           f"flood CPU ≤ 1% of one core, every frame delivered: {F['vkb']['core_percent']:.3f}%")
    target(F["vkbm"]["core_percent"] <= 1.0,
           f"flood CPU ≤ 1% of one core, kernel event mask: {F['vkbm']['core_percent']:.3f}%")
    target(F["vkbm"]["cpu_ms"] <= 0.25 * F["py"]["cpu_ms"],
           f"flood CPU ≤ 0.25× the Python relay's, kernel event mask: {F['vkbm']['cpu_ms'] / F['py']['cpu_ms']:.3f}× "
           f"(without it {F['vkb']['cpu_ms'] / F['py']['cpu_ms']:.2f}×: the wake-up per frame alone costs more)")
    target(F["vkbm"]["switches"] <= 1.2 * F["cm"]["switches"],
           f"wake-ups per state change ≤ 1.2× the C relay's, kernel event mask: "
           f"{F['vkbm']['switches'] / changes:.2f} vs {F['cm']['switches'] / changes:.2f} "
           f"({F['vkbm']['switches'] / F['cm']['switches']:.2f}×)")
    target(F["vkbm"]["cpu_ms"] <= 2 * F["cm"]["cpu_ms"],
           f"flood CPU ≤ 2× the C relay's, kernel event mask: {F['vkbm']['cpu_ms'] / F['cm']['cpu_ms']:.2f}×")
    target(F["vkbh"]["core_percent"] <= 1.0,
           f"hidraw flood CPU ≤ 1% of one core (button {HID_BUTTON}): {F['vkbh']['core_percent']:.3f}%")
    target(F["vkbh"]["cpu_ms"] <= 2 * F["ch"]["cpu_ms"],
           f"hidraw flood CPU ≤ 2× the C relay's: {F['vkbh']['cpu_ms'] / F['ch']['cpu_ms']:.2f}×")
    out()

    R = results["replay"]
    out(f"3. Replay throughput, parse + map in process ({R['events']:,} events, {R['bytes'] / MB:.0f} MB of evemu text, "
        f"median of {R['rounds']})")
    out(f"   {R['median_events_per_s']:,.0f} events/s (parse {R['median_parse_s'] * 1000:.0f} ms, "
        f"map {R['median_map_s'] * 1000:.0f} ms; best {R['best_events_per_s']:,.0f} events/s)")
    target(R["median_events_per_s"] >= 2_000_000, f"replay throughput ≥ 2,000,000 events/s: "
                                                   f"{R['median_events_per_s']:,.0f}")
    out()

    C = results["reconnect"]
    out(f"4. Reconnect-to-state: restarted server's listen() → its receipt of the current state "
        f"(SIGKILL, down 0–{C['down_max_s']} s)")
    out(f"   {'':22} {'cycles':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for k in ("vkb", "c", "py"):
        r = C[k]
        got = f"{r['received']}/{r['cycles']}"
        out(f"   {NAMES[k]:22} {got:>7} {fmt(r['p50_ms']):>9} {fmt(r['p99_ms']):>9} {fmt(r['max_ms']):>9}")
    out(f"   {'vkb-bridge / c':22} {'':>7} {ratio(C['vkb']['p50_ms'], C['c']['p50_ms']):>9} "
        f"{ratio(C['vkb']['p99_ms'], C['c']['p99_ms']):>9}")
    if C["py"]["received"] == 0:
        out(f"   (the Python relay never reconnects without new input: it notices the dead server only when a "
            f"send fails; waited {C['timeout_s']} s per cycle)")
    ok = C["vkb"]["received"] == C["vkb"]["cycles"] and C["vkb"]["p99_ms"] is not None
    target(ok and C["vkb"]["p99_ms"] <= 100,
           f"reconnect-to-state p99 ≤ 100 ms: {fmt(C['vkb']['p99_ms'], ' ms')} "
           f"({C['vkb']['received']}/{C['vkb']['cycles']} cycles)")
    out()

    I = results["idle"]
    out(f"5. Idle cost: {I['seconds']} s connected, no input")
    out(f"   {'':22} {'CPU ms/min':>11} {'wake-ups':>9} {'packets':>8} {'RSS':>9} {'PSS':>9} {'private':>9} "
        f"{'threads':>8} {'fds':>5}")
    for k in ("vkb", "c", "py"):
        r = I[k]
        out(f"   {NAMES[k]:22} {r['cpu_ms_per_min']:11.3f} {r['wakeups']:9d} {r['packets']:8d} "
            f"{r['rss'] / MB:7.1f}MB {r['pss'] / MB:7.1f}MB {r['anon'] / MB:7.1f}MB {r['threads']:8d} {r['fds']:5d}")
    out("   (fds: every open descriptor, the input FIFO standing in for the stick's node)")
    out("   (RSS counts every resident page of the shared libraries mapped; PSS divides shared pages among the")
    out("    processes using them; private is anonymous memory: heap, stacks)")
    for k in ("c", "py"):
        out(f"   {'vkb-bridge / ' + k:22} {ratio(I['vkb']['cpu_ms'], I[k]['cpu_ms']):>11} "
            f"{ratio(I['vkb']['wakeups'], I[k]['wakeups']):>9}")
    target(I["vkb"]["cpu_ms_per_min"] <= 5, f"idle CPU ≤ 5 ms per minute: {I['vkb']['cpu_ms_per_min']:.3f} ms")
    target(I["vkb"]["wakeups"] == 0 and I["vkb"]["packets"] == 0,
           f"no wake-ups while idle (no refresh interval configured): {I['vkb']['wakeups']} wake-ups, "
           f"{I['vkb']['packets']} packets")
    target(I["vkb"]["rss"] <= 16 * MB, f"RSS ≤ 16 MB steady (static release build): {I['vkb']['rss'] / MB:.1f} MB")
    target(I["vkb"]["threads"] <= 2, f"threads while running ≤ 2: {I['vkb']['threads']}")
    target(I["vkb"]["fds"] <= 10, f"open descriptors with one stick ≤ 10: {I['vkb']['fds']}")
    out()

    K = results["leak"]
    n = K["reconnects"]
    out(f"6. Leak check: after {n:,} reconnects versus after 10")
    out(f"   {'':22} {'RSS @10':>9} {f'RSS @{n}':>10} {'growth':>8} {'fds @10':>8} {f'fds @{n}':>9}")
    for k in ("vkb", "c", "py"):
        r = K[k]
        out(f"   {NAMES[k]:22} {r['rss_10'] / MB:7.2f}MB {r[f'rss_{n}'] / MB:8.2f}MB {r['rss_growth_percent']:7.2f}% "
            f"{r['fds_10']:8d} {r[f'fds_{n}']:9d}")
    v = K["vkb"]
    target(v["rss_growth_percent"] <= 1.0, f"RSS growth after {n:,} reconnects ≤ 1%: {v['rss_growth_percent']:.2f}%")
    target(v["fds_10"] == v[f"fds_{n}"], f"open files unchanged: {v['fds_10']} → {v[f'fds_{n}']}")
    target(v[f"rss_{n}"] <= 16 * MB, f"RSS ≤ 16 MB after {n:,} reconnects: {v[f'rss_{n}'] / MB:.1f} MB")
    out()
    return lines, failures


def chart(values, busy, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"vkb": "#1f77b4", "c": "#2ca02c", "py": "#d62728"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    low = min(min(v) for v in list(values.values()) + list(busy.values()))
    high = max(max(v) for v in list(values.values()) + list(busy.values()))
    bins = [low * (high / low) ** (i / 80) for i in range(81)]
    for k in ("c", "vkb", "py"):
        v = values[k]
        p50, p99 = percentile(v, 50), percentile(v, 99)
        left.hist(v, bins=bins, histtype="step", linewidth=1.6, color=colors[k],
                  label=f"{NAMES[k]}: p50 {p50:.0f} µs, p99 {p99:.0f} µs")
        n = len(v)
        exceed = [1 - i / n for i in range(n)]
        right.step(v, exceed, where="post", color=colors[k], linewidth=1.6, label=f"{NAMES[k]}, paced")
        w = busy[k]
        right.step(w, [1 - i / len(w) for i in range(len(w))], where="post", color=colors[k], linewidth=1.0,
                   linestyle="--", label=f"{NAMES[k]}, back to back")
    left.set_xscale("log")
    left.set_xlabel("latency (µs, log scale)")
    left.set_ylabel("state changes")
    left.set_title("Distribution, paced like a pilot's presses")
    left.legend(fontsize=8)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_ylim(0.5 / max(len(v) for v in values.values()), 1.05)
    for q, label in ((0.5, "p50"), (0.01, "p99"), (0.001, "p99.9")):
        right.axhline(q, color="grey", linewidth=0.6, linestyle=":")
        right.text(low, q, f" {label}", va="bottom", ha="left", fontsize=8, color="grey")
    right.set_xlabel("latency (µs, log scale)")
    right.set_ylabel("fraction of state changes slower")
    right.set_title("Tail (dashed: back to back)")
    right.legend(fontsize=8)
    fig.suptitle("Input event written → packet read by the server, loopback, same input path "
                 f"({len(values['vkb']):,} state changes each)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def update_docs(doc, lines, results, failures, elapsed):
    text = doc.read_text()
    begin, end = "<!-- bench:results -->", "<!-- /bench:results -->"
    if begin not in text or end not in text:
        raise BenchError(f"{doc} has no {begin} … {end} block")
    load = os.getloadavg()
    block = (
        f"{begin}\n"
        f"Latest `make bench` ({time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} at the end, {elapsed / 60:.1f} min; "
        f"{'every target met' if not failures else str(len(failures)) + ' target(s) missed'}):\n\n"
        "```\n" + "\n".join(lines).rstrip() + "\n```\n"
        f"{end}"
    )
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(head + block + tail)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin-dir", default=str(ROOT / ".build" / "release"))
    p.add_argument("--tool", required=True, help="built benchtool")
    p.add_argument("--relay-c", required=True, help="built C relay")
    p.add_argument("--python", default=sys.executable, help="interpreter for the Python relay")
    p.add_argument("--latency-samples", type=int, default=10_000)
    p.add_argument("--latency-warmup", type=int, default=200)
    p.add_argument("--gap-min-us", type=int, default=100)
    p.add_argument("--gap-max-us", type=int, default=1000)
    p.add_argument("--flood-seconds", type=float, default=60)
    p.add_argument("--idle-seconds", type=int, default=60)
    p.add_argument("--reconnect-cycles", type=int, default=100)
    p.add_argument("--python-cycles", type=int, default=3)
    p.add_argument("--down-max-s", type=float, default=1.0)
    p.add_argument("--reconnect-timeout-s", type=float, default=2.0)
    p.add_argument("--leak-reconnects", type=int, default=1000)
    p.add_argument("--leak-timeout-s", type=float, default=240)
    p.add_argument("--replay-events", type=int, default=2_000_000)
    p.add_argument("--replay-rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="short runs, for trying the harness (targets still checked)")
    p.add_argument("--results", default=str(ROOT / ".build" / "bench" / "results.json"))
    p.add_argument("--chart", default=str(ROOT / ".build" / "bench" / "latency.png"))
    p.add_argument("--update-docs", help="write the figures into this markdown file's bench:results block")
    p.add_argument("--only", help="comma-separated figures to run: session,replay,reconnect,leak")
    p.add_argument("--keep-tmp", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.latency_samples, args.flood_seconds, args.idle_seconds = 1000, 5, 5
        args.reconnect_cycles, args.python_cycles, args.leak_reconnects = 10, 1, 100
        args.replay_events, args.replay_rounds = 500_000, 3
    only = set(args.only.split(",")) if args.only else {"session", "replay", "reconnect", "leak"}

    started = time.monotonic()
    load = os.getloadavg()
    print(f"vkb-bridge benchmarks on {os.cpu_count()} cores, load average {load[0]:.2f}")
    if load[0] > 1.0:
        print("  warning: the machine is busy; latency tails and CPU figures will be noisier")
    b = Bench(args)
    results = {}
    try:
        if "replay" in only:
            replay_figure(b, results)
        if "session" in only:
            session_figures(b, results)
        if "reconnect" in only:
            reconnect_figure(b, results)
        if "leak" in only:
            leak_figure(b, results)
    except (BenchError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        print(f"(relay logs: {b.tmp / 'relays.log'})", file=sys.stderr)
        args.keep_tmp = True
        b.close()
        return 2
    b.close()
    elapsed = time.monotonic() - started
    print()
    if only != {"session", "replay", "reconnect", "leak"}:
        print(json.dumps({k: v for k, v in results.items() if not k.endswith("_values")}, indent=1))
        return 0
    lines, failures = evaluate(results, args)
    values = results.pop("latency_values")
    busy = results.pop("latency_busy_values")
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    results["elapsed_s"] = elapsed
    results["failures"] = failures
    Path(args.results).write_text(json.dumps(results, indent=1))
    try:
        chart(values, busy, args.chart)
        print(f"chart: {args.chart}")
    except ImportError:
        print("chart skipped: matplotlib is missing (make bench installs python3-matplotlib)")
        failures.append("chart not drawn")
    if args.update_docs:
        update_docs(Path(args.update_docs), lines, results, failures, elapsed)
        print(f"figures written to {args.update_docs}")
    print(f"results: {args.results}; {elapsed / 60:.1f} min")
    if failures:
        print(f"{len(failures)} target(s) missed:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
