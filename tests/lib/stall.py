"""Machine stalls: the virtual machines the tests run on sometimes run
none of our processes for 100 ms or more (the hypervisor's steal time, a
loaded host). A timing bound measured across such a stall says nothing
about vpnd, so timing checks run under a StallProbe and an attempt during
which the machine stalled is voided and measured again:

    res = measure("transfer while rekeying", run, check)

The probe is a separate process in the root namespace that sleeps 10 ms at
a time and records every wake-up that came GAP_MS or more late. A process
that sleeps that little is woken ahead of busy ones by the scheduler, so
no load of ours (vpnd's threads, iperf3 at full speed) delays it by that
much; only a machine that stopped does. vpnd misbehaving does not make the
probe see a gap, so a vpnd that breaks a bound fails the check every time.

Deterministic checks (SPIs, counters, drops) belong in run(): they fail at
once, never voided.
"""
import subprocess
import sys
import time

GAP_MS = 100
ATTEMPTS = 3

_PROBE = r"""
import sys, time
gap = float(sys.argv[1]) / 1000
last = time.monotonic()
while True:
    time.sleep(0.01)
    now = time.monotonic()
    if now - last >= gap:
        print(f"{now:.3f} {(now - last) * 1000:.0f}", flush=True)
    last = now
"""


def steal_ms():
    """The machine's steal time so far (all CPUs), in ms."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    # cpu user nice system idle iowait irq softirq steal ... (USER_HZ=100)
    return int(fields[8]) * 10 if len(fields) > 8 else 0


class StallProbe:
    def __init__(self, gap_ms=GAP_MS):
        self.gap_ms = gap_ms
        self.gaps = []
        self.steal = 0

    def __enter__(self):
        self._steal0 = steal_ms()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _PROBE, str(self.gap_ms)],
            stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc):
        self._proc.terminate()
        out, _ = self._proc.communicate(timeout=10)
        self.gaps = [int(line.split()[1]) for line in out.splitlines()
                     if len(line.split()) == 2]
        self.steal = steal_ms() - self._steal0
        return False

    @property
    def stalled(self):
        return bool(self.gaps)

    def __str__(self):
        if not self.gaps:
            return f"no stall ({self.steal} ms steal)"
        return (f"{len(self.gaps)} stall(s) of {self.gap_ms} ms or more, "
                f"longest {max(self.gaps)} ms ({self.steal} ms steal)")


def measure(what, run, check, attempts=ATTEMPTS, report=print):
    """res = run() under a StallProbe, then check(res). An AssertionError
    from check while the probe saw the machine stall voids the attempt
    (reported) and run() goes again, at most `attempts` times in all; one
    without a stall fails the test at once. Returns the passing res."""
    last = None
    for n in range(1, attempts + 1):
        with StallProbe() as probe:
            res = run()
        try:
            check(res)
            if n > 1 or probe.stalled:
                report(f"  {what}: attempt {n} passed ({probe})")
            return res
        except AssertionError as e:
            if not probe.stalled:
                raise
            last = e
            report(f"  {what}: attempt {n} void, the machine stalled "
                   f"({probe}): {str(e).splitlines()[0][:300]}")
    raise AssertionError(f"{what}: the machine stalled in each of "
                         f"{attempts} attempts; the last failed with: {last}")


def best_time(fn, bound, tries=ATTEMPTS):
    """Time fn() (an operation whose time follows the state it works on,
    like a show command) until one run takes less than `bound` seconds, at
    most `tries` runs. A slow operation is slow every time; a machine that
    stalled does not stall again at the same operation. Returns (seconds
    of the fastest run, that run's result, [(seconds, probe) per run]),
    the probe saying whether the machine stalled during each run."""
    runs = []
    best = None
    for _ in range(tries):
        with StallProbe() as probe:
            t0 = time.monotonic()
            out = fn()
            dt = time.monotonic() - t0
        runs.append((dt, probe))
        if best is None or dt < best[0]:
            best = (dt, out)
        if dt < bound:
            break
    return best[0], best[1], runs
