"""iperf3 TCP transfers between routers, read from iperf3's JSON (-J):
bytes per interval and retransmissions, and the checks that tell a stall.

    base = transfer(r1, r2, "169.254.21.2", 4)   # without rekeys
    res = transfer(r1, r2, "169.254.21.2", 10)   # while rekeying
    assert_no_stall(res)
    assert_retransmits(res, base)
"""
import json
import statistics
import subprocess

from topo import wait_for

# Bounds used by the rekey-under-load tests (see assert_no_stall and
# assert_retransmits for what they mean). A stall: traffic nearly stopped
# (under STALL_FRACTION of the median interval) for STALL_INTERVALS
# intervals in a row, that is a second or more; one short dip (TCP's cwnd
# probing, strongSwan's user-space receiver dropping a burst) is not.
INTERVAL = 0.5
# The rekey tests pace the sender well below what vpnd carries on this
# machine (some 400-500 Mbit/s through one tunnel on 2 CPUs): at full speed
# the throughput per interval and the retransmissions follow the CPU
# scheduling (a baseline without rekeys already dips below 25% of its
# median and retransmits hundreds to thousands of segments); paced, every
# interval carries the rate and a loss is the path's.
RATE = "100M"
STALL_FRACTION = 0.10
STALL_INTERVALS = 2
RETRANS_FACTOR = 3
RETRANS_SLACK = 25


class Transfer:
    def __init__(self, data):
        self.data = data
        ivs = [i for i in data["intervals"]
               if not i["sum"].get("omitted")]
        self.bytes = [i["sum"]["bytes"] for i in ivs]
        self.seconds = [round(i["sum"]["seconds"], 3) for i in ivs]
        self.retransmits = data["end"]["sum_sent"].get("retransmits", 0)
        self.sent = data["end"]["sum_sent"]["bytes"]

    def __repr__(self):
        return (f"Transfer(bytes per {INTERVAL}s={self.bytes}, "
                f"retransmits={self.retransmits})")


def transfer(client, server, addr, seconds, port=5201, interval=INTERVAL,
             rate=None):
    """iperf3 TCP from router `client` to `addr` on router `server` for
    `seconds`, reporting every `interval` s; `rate` (e.g. "200M") paces
    the sender. Returns a Transfer."""
    srv = subprocess.Popen(["ip", "netns", "exec", server.ns, "iperf3",
                            "-s", "-1", "-B", addr, "-p", str(port)],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: f":{port}" in server.exec(
            ["ss", "-Hltn", f"sport = :{port}"]), 10, "iperf3 server")
        cmd = ["ip", "netns", "exec", client.ns, "iperf3", "-c", addr,
               "-p", str(port), "-t", str(seconds), "-i", str(interval),
               "-J"]
        if rate:
            cmd += ["-b", rate]
        res = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=seconds + 30)
        if res.returncode != 0:
            raise RuntimeError(f"iperf3 failed ({res.returncode}): "
                               f"{res.stdout[-2000:]}{res.stderr[-500:]}")
        return Transfer(json.loads(res.stdout))
    finally:
        srv.kill()
        srv.wait()


def assert_no_stall(res, fraction=STALL_FRACTION, run=STALL_INTERVALS,
                    what="transfer"):
    """No `run` consecutive intervals carried less than `fraction` of the
    median interval's bytes: traffic never stopped, or nearly stopped, for
    run x INTERVAL seconds (the longest gap stays under that)."""
    assert len(res.bytes) >= 4, f"{what}: too few intervals: {res}"
    med = statistics.median(res.bytes)
    low = [(i, b) for i, b in enumerate(res.bytes) if b < fraction * med]
    streak = longest = 0
    for i, b in enumerate(res.bytes):
        streak = streak + 1 if b < fraction * med else 0
        longest = max(longest, streak)
    assert longest < run, \
        f"{what}: stall: {longest} intervals in a row (of {INTERVAL}s) " \
        f"carried less than {fraction:.0%} of the median {med:.0f} bytes " \
        f"per interval: (index, bytes) {low}; all: {res.bytes}"


def assert_retransmits(res, base, factor=RETRANS_FACTOR,
                       slack=RETRANS_SLACK, what="transfer"):
    """Retransmissions of `res` at most factor x those of the baseline
    transfer `base` (same path, no rekeys) scaled to the bytes sent, plus
    `slack` segments."""
    scaled = base.retransmits * res.sent / max(base.sent, 1)
    bound = factor * scaled + slack
    assert res.retransmits <= bound, \
        f"{what}: {res.retransmits} TCP retransmissions, bound " \
        f"{bound:.0f} = {factor} x baseline {base.retransmits} (scaled to " \
        f"bytes sent: {scaled:.0f}) + {slack}"
