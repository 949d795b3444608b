#!/usr/bin/python3
"""Drive a program under test against fake VKB sticks in a umockdev testbed.

Run it under the preload library, with Debian's python3 (it has gi/UMockdev):

    umockdev-wrapper /usr/bin/python3 scripts/umockdev-driver.py --program .build/debug/vkb-bridge < steps.json

stdin (or --steps-json JSON) is a JSON array of steps, run in order; stdout is one JSON report:

    {"ok": bool, "error": str|null, "failedStep": int|null,
     "lines": [program stdout lines], "stderr": str, "exitStatus": int|null,
     "runs": [{"args": [...], "exitStatus": int, "stdout": str, "stderr": str}],
     "cpuNanoseconds": {name: int}, "umockdevFailedOpens": int, "skipped": str|null}

Steps (devices come from Tests/Fixtures/devices/<device>.toml; "id" names a stick for
later steps; buttons are VKB button numbers):

    {"op": "add", "id": "r", "device": "gladiator-nxt-evo-r", "event": 5, "port": "2",
     "held": [3, 80], "seedDB": false}      add a stick (emits an "add" uevent). seedDB writes
                                            its udev database entry, so enumeration sees it
                                            initialised; needs --private-run.
    {"op": "spawn", "args": ["monitor"], "umockdevDebug": false}
                                            start the program (it inherits the testbed);
                                            umockdevDebug counts umockdev's leaked sockets
                                            (report "umockdevFailedOpens": UMOCKDEV_FAILED_OPEN)
    {"op": "run", "args": ["devices"]}      run the program to completion, record its output
    {"op": "wait", "line": "REGEX", "timeout": 10, "stream": "stdout"}
                                            wait for a new line on stdout (or stderr) matching
                                            REGEX (search), after the last one matched there
    {"op": "waitAll", "lines": ["REGEX", ...], "timeout": 10}
                                            the same for several stdout lines that may come
                                            in any order
    {"op": "buttons", "id": "r", "frames": [[[3, 1]], [[3, 0], [80, 1]]]}
                                            one SYN_REPORT frame per list: MSC_SCAN + EV_KEY
    {"op": "events", "id": "r", "events": [[type, code, value], ...]}   raw events
    {"op": "axisFlood", "id": "r", "bursts": 250, "framesPerBurst": 4, "marker": 1}
                                            frames moving every axis, in bursts; after each
                                            burst button `marker` toggles and its line is awaited
    {"op": "remove", "id": "r"}             "remove" uevent, then the sysfs tree and node go
    {"op": "readd", "id": "r", "event": 6, "held": []}   plug it in again as a new node
    {"op": "storm", "id": "r", "cycles": 50, "firstEvent": 100}
                                            remove + re-add at once, 50 times; each cycle
                                            waits for the new node's "attached" line
    {"op": "signal", "name": "USR1"}
    {"op": "cpu", "name": "before"}        record the program's CPU time (ns, all threads)
                                            in report["cpuNanoseconds"]["before"]
    {"op": "stop"}                          SIGTERM, wait for the exit status

Events are only written once the test has seen the program open the node (wait for
its "open" line first), in small bursts: umockdev's node is a pty, and a reader can see
part of a burst of a few KiB, splitting an event, which libevdev rejects (-EINVAL) and
a real evdev node never does. Bursts of ~1 KiB, each awaited, are safe.
"""

import argparse
import grp
import importlib.util
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEVICES_DIR = os.path.join(ROOT, "Tests", "Fixtures", "devices")
OVERALL_DEADLINE = 90.0


def load_fixture_module():
    spec = importlib.util.spec_from_file_location("umockdev_fixture", os.path.join(HERE, "umockdev-fixture.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fx = load_fixture_module()


class StepFailed(Exception):
    pass


# umockdev 0.17's preload connects its ioctl socket even when open() of the fake node
# fails (node just removed), and never closes it: "ioctl_emulate_open fd -1 (...)".
# With UMOCKDEV_DEBUG=ioctl those are counted, so fd checks can tell them from ours.
UMOCKDEV_FAILED_OPEN = re.compile(r"^ioctl_emulate_open fd -1 ")
UMOCKDEV_DEBUG_LINE = re.compile(r"^(ioctl |ioctl_emulate_|ioctl_tree|uevent_sender)")


class Program:
    """The spawned program; its stdout lines are collected as they come."""

    def __init__(self, argv, umockdev_debug=False):
        # The child must inherit the C environment: the testbed set UMOCKDEV_DIR there
        # (g_setenv), where os.environ does not see it; os.environ writes go through.
        if umockdev_debug:
            os.environ["UMOCKDEV_DEBUG"] = "ioctl"
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
        finally:
            os.environ.pop("UMOCKDEV_DEBUG", None)
        self.lines = []
        self.stderr = []
        self.failed_opens = 0
        self.cond = threading.Condition()
        self.cursors = {"stdout": 0, "stderr": 0}
        self.done = {"stdout": False, "stderr": False}
        self.pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines, "stdout"), daemon=True),
                      threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr, "stderr"), daemon=True)]
        for t in self.pumps:
            t.start()

    def _pump(self, stream, sink, name):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                if name == "stderr" and UMOCKDEV_DEBUG_LINE.match(line):
                    self.failed_opens += bool(UMOCKDEV_FAILED_OPEN.match(line))
                    continue
                sink.append(line)
                self.cond.notify_all()
        with self.cond:
            self.done[name] = True
            self.cond.notify_all()

    def wait_line(self, pattern, timeout, stream="stdout"):
        """The next line on `stream` after the previous match there that matches."""
        lines = self.lines if stream == "stdout" else self.stderr
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(self.cursors[stream], len(lines)):
                    if regex.search(lines[i]):
                        self.cursors[stream] = i + 1
                        return lines[i]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StepFailed(f"no {stream} line matching /{pattern}/ within {timeout} s")
                if self.done[stream]:
                    raise StepFailed(f"program closed {stream} (exit {self.proc.poll()}) before a line matching /{pattern}/")
                self.cond.wait(remaining)

    def wait_lines(self, patterns, timeout):
        """Lines after the previous match matching each of `patterns`, in any order."""
        regexes = [re.compile(p) for p in patterns]
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                start = self.cursors["stdout"]
                found = [next((i for i in range(start, len(self.lines)) if r.search(self.lines[i])), None)
                         for r in regexes]
                if all(i is not None for i in found):
                    self.cursors["stdout"] = max(found) + 1
                    return
                missing = [p for p, i in zip(patterns, found) if i is None]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StepFailed(f"no stdout line matching /{missing[0]}/ within {timeout} s")
                if self.done["stdout"]:
                    raise StepFailed(f"program closed stdout (exit {self.proc.poll()}) before a line matching /{missing[0]}/")
                self.cond.wait(remaining)

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise StepFailed(f"program did not exit within {timeout} s of SIGTERM")
        for t in self.pumps:
            t.join(5)
        return self.proc.returncode


class Stick:
    """One fake stick in the testbed, its current node and sysfs paths."""

    def __init__(self, desc, port):
        self.desc = desc
        self.port = str(port)
        self.inst = None
        self.paths = None


class Driver:
    def __init__(self, program, private_run, workdir, as_user=()):
        from gi.repository import UMockdev  # noqa: imported late: only under the wrapper
        self.testbed = UMockdev.Testbed.new()
        # The program runs as the daemon's unprivileged user (as_user is the setpriv
        # prefix): the testbed (a 0700 directory of the driver's) must be reachable, and
        # writable, because the preload binds each udev monitor's uevent socket there
        # ("$UMOCKDEV_DIR/eventN"). Sticky, like /tmp. Harness plumbing: on a real system
        # the monitor is a netlink socket any user may open.
        os.chmod(self.testbed.get_root_dir(), 0o1777)
        self.as_user = list(as_user)
        self.program_path = program
        self.private_run = private_run
        self.workdir = workdir
        self.sticks = {}
        self.program = None
        self.runs = []
        self.cpu = {}
        self.hid_serial = 0

    # -- devices ---------------------------------------------------------------------

    def plug(self, stick, event, inp, held_buttons, seed_db):
        held = []
        for n in held_buttons:
            code = fx.button_code(n)
            if code is None:
                raise StepFailed(f"held button {n}: evdev delivers buttons 1-80 only")
            held.append(code)
        self.hid_serial += 1
        stick.inst = fx.Instance(event=event, input=inp, port=stick.port, hid=self.hid_serial, held=held)
        stick.paths = fx.paths(stick.desc, stick.inst)
        ioctl_file = os.path.join(self.workdir, f"event{event}.ioctl")
        with open(ioctl_file, "w") as f:
            f.write(fx.ioctl_text(stick.desc, stick.inst))
        if seed_db:
            self.seed_udev_db(stick)
        # load_ioctl first: add_from_string sends the "add" uevent at once. It binds the
        # node's ioctl socket, which the unprivileged reader must be able to connect to
        # from its first open (umask 0 for that bind only).
        old_umask = os.umask(0)
        try:
            self.testbed.load_ioctl(stick.inst.devnode, ioctl_file)
        finally:
            os.umask(old_umask)
        if not self.testbed.add_from_string(fx.umockdev_text(stick.desc, stick.inst)):
            raise StepFailed(f"umockdev refused the device description for event{event}")

    def seed_udev_db(self, stick):
        if not self.private_run:
            raise StepFailed("seedDB needs --private-run (it writes /run/udev/data)")
        minor = fx.EVDEV_MINOR_BASE + stick.inst.event
        os.makedirs("/run/udev/data", exist_ok=True)
        with open(f"/run/udev/data/c{fx.INPUT_MAJOR}:{minor}", "w") as f:
            f.write("I:1000000\nE:ID_INPUT=1\nE:ID_INPUT_JOYSTICK=1\nG:uaccess\nQ:uaccess\nV:1\n")

    def unplug(self, stick):
        # The testbed API takes /sys/... paths; the kernel's removes go child first.
        sys_path = {k: "/sys" + v for k, v in stick.paths.items()}
        self.testbed.uevent(sys_path["event"], "remove")
        self.testbed.uevent(sys_path["input"], "remove")
        # One by one: each removal also drops that device's /sys/bus and /sys/class links.
        for key in ("event", "input", "hid", "interface", "usb"):
            self.testbed.remove_device(sys_path[key])
        # remove_device leaves the udev links (S: lines) behind; udev would delete them.
        for link in fx.links(stick.desc, stick.inst):
            path = os.path.join(self.testbed.get_root_dir(), link.lstrip("/"))
            if os.path.islink(path):
                os.unlink(path)

    def write_events(self, stick, events):
        fd = self.testbed.get_dev_fd(stick.inst.devnode)
        if fd < 0:
            raise StepFailed(f"no writable end for {stick.inst.devnode}")
        data = b"".join(struct.pack("llHHi", 0, 0, t, c, v) for t, c, v in events)
        os.write(fd, data)

    # -- steps -----------------------------------------------------------------------

    def step(self, s):
        op = s["op"]
        if op == "add":
            desc = fx.Description.load(os.path.join(DEVICES_DIR, s["device"] + ".toml"))
            stick = Stick(desc, s.get("port", "2"))
            self.sticks[s["id"]] = stick
            self.plug(stick, s["event"], s.get("input"), s.get("held", []), s.get("seedDB", False))
        elif op == "readd":
            self.plug(self.stick(s), s["event"], s.get("input"), s.get("held", []), False)
        elif op == "remove":
            self.unplug(self.stick(s))
        elif op == "storm":
            # umockdev aborts when a listener's uevent queue is full (it does not block),
            # so each cycle waits until the program has seen the new node: remove and
            # re-add still follow each other at once, with the reader mid-open.
            stick = self.stick(s)
            for i in range(s["cycles"]):
                self.unplug(stick)
                self.plug(stick, s["firstEvent"] + i, None, [], False)
                self.need_program().wait_line(f"^attached {re.escape(stick.inst.devnode)} ", s.get("timeout", 10))
        elif op == "spawn":
            if self.program is not None:
                raise StepFailed("program already running")
            self.program = Program(self.as_user + [self.program_path] + s.get("args", []),
                                   s.get("umockdevDebug", False))
        elif op == "run":
            r = subprocess.run(self.as_user + [self.program_path] + s.get("args", []), capture_output=True,
                               timeout=s.get("timeout", 30))
            self.runs.append({"args": s.get("args", []), "exitStatus": r.returncode,
                              "stdout": r.stdout.decode("utf-8", "replace"),
                              "stderr": r.stderr.decode("utf-8", "replace")})
        elif op == "wait":
            self.need_program().wait_line(s["line"], s.get("timeout", 10), s.get("stream", "stdout"))
        elif op == "waitAll":
            self.need_program().wait_lines(s["lines"], s.get("timeout", 10))
        elif op == "buttons":
            events = []
            for frame in s["frames"]:
                for n, value in frame:
                    code = fx.button_code(n)
                    if code is None:
                        raise StepFailed(f"button {n}: evdev delivers buttons 1-80 only")
                    events.append((fx.EV_MSC, fx.MSC_SCAN, 0x90000 + n))
                    events.append((fx.EV_KEY, code, value))
                events.append((fx.EV_SYN, 0, 0))
            self.write_events(self.stick(s), events)
        elif op == "events":
            self.write_events(self.stick(s), [tuple(e) for e in s["events"]])
        elif op == "axisFlood":
            # A stick with every axis moving: bursts of SYN_REPORT frames of all its axes.
            # After each burst, button `marker` toggles and the program's line for it is
            # awaited, so unread data never piles up in the pty (see the docstring).
            stick = self.stick(s)
            axes = [code for code, _, _ in stick.desc.axes]
            marker = s["marker"]
            pattern = f"{re.escape(stick.inst.devnode)}: VKB button {marker} .* "
            for b in range(s["bursts"]):
                events = []
                for f in range(s.get("framesPerBurst", 4)):
                    events += [(fx.EV_ABS, a, (b * 7 + f * 13 + a) % 1000) for a in axes] + [(fx.EV_SYN, 0, 0)]
                self.write_events(stick, events)
                down = b % 2 == 0
                self.write_events(stick, [(fx.EV_MSC, fx.MSC_SCAN, 0x90000 + marker),
                                          (fx.EV_KEY, fx.button_code(marker), int(down)), (fx.EV_SYN, 0, 0)])
                self.need_program().wait_line(pattern + ("down" if down else "up"), s.get("timeout", 10))
        elif op == "cpu":
            self.cpu[s["name"]] = self.cpu_ns()
        elif op == "signal":
            self.need_program().proc.send_signal(getattr(signal, "SIG" + s["name"]))
        elif op == "stop":
            self.need_program().stop()
        else:
            raise StepFailed(f"unknown op {op!r}")

    def cpu_ns(self):
        """CPU time the program's threads have used so far, in ns (schedstat)."""
        pid = self.need_program().proc.pid
        total = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that just ended
        return total

    def stick(self, s):
        if s.get("id") not in self.sticks:
            raise StepFailed(f"no stick with id {s.get('id')!r}")
        return self.sticks[s["id"]]

    def need_program(self):
        if self.program is None:
            raise StepFailed("no program spawned")
        return self.program

    def finish(self):
        status = None
        if self.program is not None:
            try:
                status = self.program.stop()
            except StepFailed:
                status = None
        return status


def in_private_run():
    """True when this is the re-executed driver (see below) and /run is its tmpfs."""
    if os.environ.get("VKB_DRIVER_NAMESPACE") != "1":
        return False
    with open("/proc/self/mounts") as f:
        run_mounts = [line.split()[2] for line in f if line.split()[1] == "/run"]
    return bool(run_mounts) and run_mounts[-1] == "tmpfs"


def namespace_setup(private_run, unprivileged_program):
    """Shell commands for the driver's private mount namespace:
    - private_run: an empty tmpfs on /run, so seeding the udev database cannot touch
      the host's;
    - unprivileged_program (root only): a devpts instance of its own whose ptys (the fake
      nodes) are born group input, mode 0660, as udev leaves a joystick node before it
      announces it. Setting that after the add uevent instead would race the reader."""
    setup = []
    if private_run:
        setup.append("mount -t tmpfs tmpfs /run")
    if unprivileged_program and os.geteuid() == 0:
        gid = grp.getgrnam("input").gr_gid
        setup.append(f"mount -t devpts -o newinstance,gid={gid},mode=0660,ptmxmode=0666 devpts /dev/pts"
                     " && mount --bind /dev/pts/ptmx /dev/ptmx")
    return " && ".join(setup)


def reexec_in_namespace(setup):
    """Re-run this driver in a private mount namespace prepared by `setup`; returns
    (with the reason) only when that cannot be done."""
    base = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        base.insert(1, "--map-root-user")
    probe = subprocess.run(base + ["sh", "-c", setup], capture_output=True)
    if probe.returncode != 0:
        return probe.stderr.decode(errors="replace").strip() or "unshare failed"
    env = dict(os.environ, VKB_DRIVER_NAMESPACE="1")
    os.execvpe("unshare", base + ["sh", "-c", setup + ' && exec "$0" "$@"', sys.executable] + sys.argv, env)


def main():
    ap = argparse.ArgumentParser(description="umockdev test driver (see the module docstring)")
    ap.add_argument("--program", required=True, help="the executable under test")
    ap.add_argument("--steps-json", help="the steps as a JSON argument instead of stdin")
    ap.add_argument("--as-user", default="[]",
                    help="JSON array put before the program (e.g. setpriv to an unprivileged user)")
    ap.add_argument("--private-run", action="store_true",
                    help="run in a private mount namespace with a tmpfs on /run (for seedDB)")
    args = ap.parse_args()

    report = {"ok": False, "error": None, "failedStep": None, "lines": [], "stderr": "",
              "exitStatus": None, "runs": [], "skipped": None}

    as_user = json.loads(args.as_user)
    setup = namespace_setup(args.private_run, bool(as_user))
    if setup and os.environ.get("VKB_DRIVER_NAMESPACE") != "1":
        reason = reexec_in_namespace(setup)  # returns only on failure
        report["skipped"] = f"cannot make a private mount namespace ({setup}): {reason}"
        print(json.dumps(report))
        return
    if args.private_run and not in_private_run():
        report["skipped"] = "--private-run: /run is not a private tmpfs"
        print(json.dumps(report))
        return

    if "umockdev-preload" not in os.environ.get("LD_PRELOAD", ""):
        report["error"] = "not running under umockdev-wrapper (LD_PRELOAD lacks libumockdev-preload)"
        print(json.dumps(report))
        return
    try:
        import gi
        gi.require_version("UMockdev", "1.0")
        from gi.repository import UMockdev  # noqa: F401
    except (ImportError, ValueError) as e:
        report["skipped"] = f"python3 cannot load gi/UMockdev ({e}): apt-get install gir1.2-umockdev-1.0 python3-gi"
        print(json.dumps(report))
        return

    steps = json.loads(args.steps_json if args.steps_json is not None else sys.stdin.read())
    def deadline_passed(*_):
        raise StepFailed(f"driver deadline of {OVERALL_DEADLINE} s passed")

    signal.signal(signal.SIGALRM, deadline_passed)
    signal.alarm(int(OVERALL_DEADLINE))
    with tempfile.TemporaryDirectory(prefix="vkb-umockdev-") as workdir:
        driver = Driver(args.program, args.private_run, workdir, as_user)
        try:
            for i, s in enumerate(steps):
                report["failedStep"] = i
                driver.step(s)
            report["failedStep"] = None
            report["ok"] = True
        except StepFailed as e:
            report["error"] = str(e)
        except Exception as e:  # a driver bug or a umockdev error: report it, don't hide it
            report["error"] = f"{type(e).__name__}: {e}"
        finally:
            signal.alarm(0)
            report["exitStatus"] = driver.finish()
            if driver.program is not None:
                with driver.program.cond:
                    report["lines"] = list(driver.program.lines)
                    report["stderr"] = "\n".join(driver.program.stderr)
                    report["umockdevFailedOpens"] = driver.program.failed_opens
            report["runs"] = driver.runs
            report["cpuNanoseconds"] = driver.cpu
    print(json.dumps(report))


if __name__ == "__main__":
    main()
