#!/usr/bin/python3
"""N tunnels between two routers: how long until all are up, at what IKE
set-up rate, with how much memory; vpnd against strongSwan in the same run.

Two routers, r1 and r2, in network namespaces joined by one veth (eth0 on
both). Each side has N underlay addresses on that veth, so connection i
has its own address pair (r1 10.0.<i/250>.<i%250+1>, r2 10.1.<i/250>.
<i%250+1>, all in 10.0.0.0/15, on-link). The neighbour entries for the
far side's N addresses are static (nud permanent): the kernel's ARP table
limit (gc_thresh3, 1024 by default) is global to all namespaces, and
dynamic entries for 2 x 1000 addresses would overflow it. Tunnel i's
inside addresses are the i-th /30 of 169.254.0.0/16 (the Azure-style
link-local /30s, up to 16384 tunnels): 169.254.0.1/30 and .2/30 for
tunnel 0, .5/.6 for tunnel 1, ... r1 is AS 65001, r2 AS 65002.

Phases (--phases, comma-separated), each in fresh namespaces:

  vpnd-vpnd  zebra on both routers (the N tunnel interfaces and their
             /30s in its configuration), with --bgp Debian's bgpd on both
             (one eBGP neighbour per tunnel, the far /30 address, in one
             peer-group; each side announces one /24), then vpnd on both
             with N connections (default settings: both sides may
             initiate). Clock zero: both vpnds are launched back to
             back, after zebra (its vty waited for) and bgpd (launched).
  bgp-veth   (--bgp only) the anchor for BGP: the same bgpds and N
             sessions with the same /30s put straight on the veth, no
             tunnels, no vpnd. Clock zero is the launch of the bgpds.
  vpnd-swan  r1: zebra and vpnd (N connections, each with 'route' to
             charon's inside /32, since charon narrows the selectors);
             r2: strongSwan's charon (kernel-libipsec, tests/lib/swan.py)
             as the responder for N connections, loaded before clock
             zero. Clock zero is the launch of r1's vpnd.
  swan-swan  charon on both: r2's responds (loaded first), r1's initiates
             all N (start_action = start, keyingtries = 0). Clock zero is
             the start of 'swanctl --load-all' on r1 (which initiates);
             the pure IKE set-up anchor.

Figures per N and phase:

  config     vpnd: its own "configuration file ... read ... took" log
             figure (it reads the file after it has daemonized, so the
             launch time says nothing); charon: the time of the
             initiator's 'swanctl --load-all' (which also initiates)
  tunnels    from clock zero until all N tunnels are up on both sides,
             polled every --interval s (or as often as a poll allows);
             vpnd: its N tunnel interfaces have carrier (vpnd raises it
             when a Child SA is installed), read from the kernel ('ip
             link') so that polling costs vpnd nothing: 'show vpn
             connection' itself takes over a second with 300 tunnels
             during the set-up, so it is asked only once at the end
             ("vpnd established"); charon: IKE SA ESTABLISHED with its
             Child SA INSTALLED (vici list-sas). With the times to the
             first one and to half of them, and in brackets the same
             from vpnd's log: when the N-th interface got carrier
             (millisecond timestamps, free of the polling interval)
  SA/s       N / tunnels
  bgp        (--bgp) from clock zero until all N BGP sessions are
             Established on both sides at once ('show bgp summary json',
             asked once the kernel shows N TCP sessions on port 179:
             with 1000 peers the command takes a busy bgpd seconds);
             in brackets, from bgpd's log, when the N-th neighbour came
             Up for the first time (sessions can go down again)
  total      (--bgp) from launching zebra to all sessions Established
  rss        vpnd's VmRSS (/proc/PID/status) on r1 once all are up, and
             the per-tunnel cost: (that - the RSS of vpnd with an empty
             configuration, measured in the same namespace) / N; also the
             RSS once vpnd's log says the configuration was read (its
             connections and tunnel interfaces exist, few SAs yet), and
             the peak (VmHWM). charon's RSS too.
  ifaces     tunnel interfaces vpn<i> present, and with carrier, on r1
  CPU used   CPU seconds of each daemon (/proc/PID/stat) until the
             tunnels, and the BGP sessions, were up
  IKE        vpnd's nonzero 'show vpn ike statistics' counters (COOKIEs,
             retransmitted requests answered, drops)
  shows      (vpnd-vpnd) the three slowest of r1's show commands (SHOWS,
             each asked once at the end, with BGP running if --bgp), as
             the client sees them

A phase that runs past --timeout is stopped and reported as '>TIMEOUT'
with how many were up. Figures, not pass/fail; both routers share this
machine's CPUs, so read them as ratios within one run.

Run as root (network namespaces), from anywhere:

  bench/scale/tunnels.py                           # N = 100 300 1000
  bench/scale/tunnels.py -n 100 --bgp --phases vpnd-vpnd
  bench/scale/tunnels.py -n 1000 --bgp --logs /tmp/scale-logs --perf
  VPND_BUILD=build-asan bench/scale/tunnels.py -n 100

--bgp-passive makes r2's BGP neighbours passive (no connection
collisions). --timeline prints, per vpnd log, when interfaces were
created, initiations sent, IKE SAs established and carriers raised.
--logs DIR keeps every phase's logs and configurations (DIR/n<N>-<phase>/
r1, r2) with that timeline (timeline.txt); --perf also
records 'perf record -g' of r1's vpnd from clock zero until all are up
(DIR/n<N>-vpnd-vpnd/perf.data, needs --logs). Results are in README.md.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

from frrvty import Vty  # noqa: E402
from swan import Conn, Swan  # noqa: E402
from topo import VPND, Topo, wait_for  # noqa: E402

PHASES = ("vpnd-vpnd", "bgp-veth", "vpnd-swan", "swan-swan")
AS = {1: 65001, 2: 65002}
# charon logs at level 1 (swan.py's tests use 2: every proposal, selector
# and address, 15 lines per SA and one per address at start-up)
SWAN_LOG = {"ike": 1, "cfg": 1, "knl": 1, "chd": 1}


class Timeout(Exception):
    pass


# -- addressing --------------------------------------------------------------

def under(side, i):
    """Underlay address of connection i on router `side` (1 or 2)."""
    return f"10.{side - 1}.{i // 250}.{i % 250 + 1}"


def inner(side, i, plen=None):
    """Inside address of tunnel i on router `side`: the i-th /30 of
    169.254.0.0/16, .1 on r1 and .2 on r2."""
    a = 4 * i + side
    s = f"169.254.{a // 256}.{a % 256}"
    return f"{s}/{plen}" if plen else s


def inner_net(i):
    a = 4 * i
    return f"169.254.{a // 256}.{a % 256}/30"


def psk(i):
    return f"scale-bench-key-{i:05d}"


# -- configurations ----------------------------------------------------------

def vpnd_conf(side, n, log, routes=False):
    """log: a second log file, with milliseconds (the command line's log
    file keeps FRR's whole seconds), for the timeline."""
    other = 3 - side
    out = [f"log file {log} debug", "log timestamp precision 3", "vpn"]
    for i in range(n):
        out += [f" connection c{i}",
                f"  local-address {under(side, i)}",
                f"  remote-address {under(other, i)}",
                f"  pre-shared-key {psk(i)}",
                f"  interface vpn{i}"]
        if routes:
            out.append(f"  route {inner(other, i, 32)}")
        out.append(" exit")
    out.append("exit")
    return "\n".join(out) + "\n"


def zebra_conf(side, n):
    out = []
    for i in range(n):
        out += [f"interface vpn{i}", f" ip address {inner(side, i, 30)}",
                "exit"]
    return "\n".join(out) + "\n"


def bgpd_conf(side, n, connect, log, passive=False):
    other = 3 - side
    out = [f"log file {log} debug", "log timestamp precision 3",
           f"router bgp {AS[side]}",
           " bgp log-neighbor-changes",
           f" bgp router-id 10.25{side}.0.1",
           " no bgp ebgp-requires-policy",
           " no bgp network import-check",
           " neighbor tun peer-group",
           f" neighbor tun remote-as {AS[other]}",
           " neighbor tun timers 10 30",
           f" neighbor tun timers connect {connect}"]
    if passive:
        out.append(" neighbor tun passive")
    out += [f" neighbor {inner(other, i)} peer-group tun" for i in range(n)]
    out += [" address-family ipv4 unicast",
            f"  network 10.20{side}.0.0/24",
            " exit-address-family", "exit"]
    return "\n".join(out) + "\n"


def swan_conns(side, n, initiator):
    """charon's N connections on router `side`."""
    other = 3 - side
    conns = []
    for i in range(n):
        if initiator or other == 2:
            remote_ts = inner(other, i, 32)
        else:
            remote_ts = inner_net(i)  # the vpnd peer offers any-to-any
        conns.append(Conn(
            f"c{i}", local_addrs=under(side, i), remote_addrs=under(other, i),
            psk=psk(i), local_ts=inner(side, i, 32), remote_ts=remote_ts,
            start_action="start" if initiator else "none",
            keyingtries=0 if initiator else 1))
    return conns


# -- namespaces --------------------------------------------------------------

def build(topo, n, lo_inner=()):
    """r1 and r2, the veth, N underlay addresses on each side with static
    neighbour entries; inside /32s on lo of the routers in lo_inner (charon
    needs an address inside its local traffic selector)."""
    r = {1: topo.add_router("r1"), 2: topo.add_router("r2")}
    topo.add_link(r[1], r[2], a_name="eth0", b_name="eth0")
    mac = {s: json.loads(r[s].exec(["ip", "-j", "link", "show", "eth0"]))[0]
           ["address"] for s in (1, 2)}
    for s in (1, 2):
        o = 3 - s
        batch = [f"addr add {under(s, i)}/15 dev eth0" for i in range(n)]
        batch += [f"neigh replace {under(o, i)} lladdr {mac[o]} dev eth0 "
                  "nud permanent" for i in range(n)]
        if s in lo_inner:
            batch += [f"addr add {inner(s, i, 32)} dev lo" for i in range(n)]
        r[s].exec(["ip", "-batch", "-"], input="\n".join(batch) + "\n")
    return r


# -- measurements ------------------------------------------------------------

def cpu_s(pid):
    """CPU seconds (user + system, all threads) a process has used."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def cpu_text(procs):
    """'name 1.2s' for each (name, pid) that has a figure."""
    out = []
    for name, pid in procs:
        c = cpu_s(pid) if pid else None
        if c is not None:
            out.append(f"{name} {c:.1f}s")
    return " ".join(out)


def rss_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB, or (None, None)."""
    got = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    got[k] = int(v.split()[0])
    except OSError:
        pass
    return got.get("VmRSS"), got.get("VmHWM")


ESTABLISHED = re.compile(r"^Connection \S+: established\b", re.M)


def vpnd_up(r, timeout):
    """Connections established in r's vpnd (0 while its vty is not up)."""
    try:
        with Vty(r.vty_path("vpnd"), timeout=timeout) as v:
            v.run("enable")
            return len(ESTABLISHED.findall(v.run("show vpn connection")))
    except OSError:
        return 0


SHOWS = ["show running-config", "show vpn connection",
         "show vpn connection json", "show vpn connection summary",
         "show vpn connection summary json", "show vpn connection c0",
         "show vpn connection c0 json", "show vpn sa", "show vpn sa json",
         "show vpn policy", "show vpn policy json",
         "show vpn ike statistics", "show vpn ike statistics json"]


def time_shows(r):
    """Each of SHOWS once on r's vpnd, timed from the client's side:
    [(seconds, command, bytes)], slowest first."""
    out = []
    with Vty(r.vty_path("vpnd"), timeout=60) as v:
        v.run("enable")
        for c in SHOWS:
            t = time.monotonic()
            text = v.run(c)
            out.append((time.monotonic() - t, c, len(text)))
    return sorted(out, reverse=True)


def tcp_bgp(r):
    """Established TCP connections on port 179 in r's namespace (from the
    kernel, free for bgpd)."""
    out = r.exec(["ss", "-Htn", "state", "established",
                  "( sport = :179 or dport = :179 )"], check=False)
    return sum(1 for l in out.splitlines() if l.strip())


def bgp_up(r, timeout, n):
    """BGP sessions Established in r's bgpd. bgpd is asked only once the
    kernel has N TCP sessions on port 179 (with 1000 peers, 'show bgp
    summary json' takes bgpd seconds while it is busy): until then the
    TCP count stands in for it."""
    tcp = tcp_bgp(r)
    if tcp < n:
        return tcp
    try:
        with Vty(r.vty_path("bgpd"), timeout=timeout) as v:
            v.run("enable")
            out = v.run("show bgp summary json")
    except OSError:
        return 0
    try:
        peers = json.loads(out).get("ipv4Unicast", {}).get("peers", {})
    except ValueError:
        return 0
    return sum(1 for p in peers.values() if p.get("state") == "Established")


def swan_up(sw):
    n = 0
    for sa in sw.list_sas():
        if sa.get("state") == "ESTABLISHED" and any(
                c.get("state") == "INSTALLED"
                for c in sa["child-sas"].values()):
            n += 1
    return n


class Progress:
    """Polls counters until each reaches its target or the deadline."""

    def __init__(self, t0, deadline, interval):
        self.t0 = t0
        self.deadline = deadline
        self.interval = interval
        self.counters = {}  # name -> [fn, target, last, first, half, all]
        self.poll_max = 0.0

    def add(self, name, fn, target, every=0.0):
        """every: poll this one at most every so many seconds."""
        self.counters[name] = [fn, target, 0, None, None, None, every, 0.0]

    def done(self, names=None):
        return all(c[5] is not None for k, c in self.counters.items()
                   if names is None or k in names)

    def run(self, until=None, on_done=None):
        """Poll until the counters `until` (default all) are done."""
        while not self.done(until):
            left = self.deadline - time.monotonic()
            if left <= 0:
                return False
            p0 = time.monotonic()
            for name, c in self.counters.items():
                if c[5] is not None or time.monotonic() < c[7]:
                    continue
                c[7] = time.monotonic() + c[6]
                c[2] = c[0](max(1.0, min(left, 30)))
                now = time.monotonic() - self.t0
                if c[2] > 0 and c[3] is None:
                    c[3] = now
                if c[2] * 2 >= c[1] and c[4] is None:
                    c[4] = now
                if c[2] >= c[1]:
                    c[5] = now
                    if on_done:
                        on_done(name)
            took = time.monotonic() - p0
            self.poll_max = max(self.poll_max, took)
            time.sleep(max(self.interval, took))
        return True

    def when(self, *names):
        """(first, half, all) over several counters: the latest of each,
        None when one is missing."""
        out = []
        for k in (3, 4, 5):
            v = [self.counters[n][k] for n in names]
            out.append(None if None in v else max(v))
        return tuple(out)

    def count(self, *names):
        return min(self.counters[n][2] for n in names)


def config_log(r):
    try:
        text = open(r.log_path("vpnd")).read()
    except OSError:
        return ""
    m = re.findall(r"configuration file \S+ read: (.*)", text)
    return m[-1] if m else ""


def ifaces(r, n):
    """(present, with carrier) of the vpn<i> interfaces."""
    out = r.exec(["ip", "-o", "link", "show"], check=False)
    present = carrier = 0
    for line in out.splitlines():
        m = re.match(r"\d+: (vpn\d+)[:@]", line)
        if not m:
            continue
        present += 1
        if "LOWER_UP" in line and "NO-CARRIER" not in line:
            carrier += 1
    return present, carrier


def ike_stats(r):
    """vpnd's nonzero IKE counters (retransmitted requests answered,
    COOKIEs, drops), as 'name=value' text."""
    try:
        st = json.loads(r.cmd("vpnd", "show vpn ike statistics json"))
    except Exception as e:  # noqa: BLE001 - best effort
        return f"({e})"
    return " ".join(f"{k}={v}" for k, v in st.items()
                    if isinstance(v, int) and v and k not in
                    ("ikeSas", "datagramsReceived"))


def rss_after_config(r, deadline):
    """vpnd's VmRSS once its log says the configuration file was read
    (connections and tunnel interfaces made, few SAs yet), or None."""
    while time.monotonic() < deadline:
        try:
            if "configuration file" in open(ms_log(r)).read():
                return rss_kib(r.daemons["vpnd"])[0]
        except OSError:
            pass
        time.sleep(0.05)
    return None


def ms_log(r, daemon="vpnd"):
    return os.path.join(r.dir, f"{daemon}-ms.log")


def empty_rss(r):
    """RSS of vpnd with an empty configuration, in this namespace."""
    r.start("vpnd", "")
    time.sleep(0.5)
    rss = rss_kib(r.daemons["vpnd"])[0]
    r.stop("vpnd")
    return rss


# -- log timeline --------------------------------------------------------------

TS = re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?) ")
EVENTS = (
    ("interface created", "tunnel interface created"),
    ("carrier up", "carrier up"),
    ("IKE SA established", "IKE SA established"),
    ("initiating IKE SA", "initiating IKE SA"),
    ("retransmit", "retransmit"),
    ("cookie", "COOKIE"),
    ("IKE_SA_INIT failed", "IKE_SA_INIT failed"),
    ("warning/error", None),
)


def parse_ts(s):
    fmt = "%Y/%m/%d %H:%M:%S.%f" if "." in s else "%Y/%m/%d %H:%M:%S"
    return datetime.datetime.strptime(s, fmt).timestamp()


def start_zebras(r, confs):
    """Start zebra on r[1] and r[2] with confs[0], confs[1]; wait until
    both answer."""
    for s in (1, 2):
        r[s].start("zebra", confs[s - 1], wait=False)
    for s in (1, 2):
        wait_for(lambda: r[s].vty_ok("zebra"), 60, "zebra's vty")


def nth_distinct(path, wall0, n, pattern):
    """From a daemon's log: seconds from wall0 until n distinct values of
    pattern's group 1 had been seen (each one's first time), or None."""
    seen = set()
    try:
        f = open(path, errors="replace")
    except OSError:
        return None
    with f:
        for line in f:
            m = TS.match(line)
            c = re.search(pattern, line)
            if m and c and c.group(1) not in seen:
                seen.add(c.group(1))
                if len(seen) >= n:
                    return parse_ts(m.group(1)) - wall0
    return None


def carrier_all(path, wall0, n):
    """From vpnd's log: until n tunnel interfaces had carrier up."""
    return nth_distinct(path, wall0, n, r"\] (vpn\d+): carrier up")


def bgp_up_log(path, wall0, n):
    """From bgpd's log: until n neighbours had come Up."""
    return nth_distinct(path, wall0, n, r"%ADJCHANGE: neighbor (\S+)\(?.* Up")


def timeline(path, wall0, n):
    """When the events of vpnd's log happened, relative to wall0: count,
    first, 10%, 50%, 90% and last of each kind."""
    seen = {name: [] for name, _ in EVENTS}
    try:
        f = open(path, errors="replace")
    except OSError:
        return "(no log)\n"
    with f:
        for line in f:
            m = TS.match(line)
            if not m:
                continue
            t = parse_ts(m.group(1)) - wall0
            for name, needle in EVENTS:
                if needle is None:
                    if re.search(r"\b(WARNING|ERROR|warnings|errors):",
                                 line):
                        seen[name].append(t)
                elif needle in line:
                    seen[name].append(t)
    out = []
    for name, ts in seen.items():
        if not ts:
            out.append(f"  {name:20s} 0\n")
            continue
        q = lambda p: ts[min(len(ts) - 1, int(p * len(ts)))]  # noqa: E731
        out.append(f"  {name:20s} {len(ts):6d}  first {ts[0]:7.2f}s  "
                   f"10% {q(.1):7.2f}s  50% {q(.5):7.2f}s  "
                   f"90% {q(.9):7.2f}s  last {ts[-1]:7.2f}s\n")
    return "".join(out)


# -- phases ------------------------------------------------------------------

def fmt_t(t, timeout):
    return f">{timeout:.0f}s" if t is None else f"{t:.2f}s"


def keep_logs(topo, n, phase, args, extra=""):
    if not args.logs:
        return None
    d = os.path.join(args.logs, f"n{n}-{phase}")
    os.makedirs(d, exist_ok=True)  # perf.data may be there already
    for name, r in topo.routers.items():
        shutil.rmtree(os.path.join(d, name), ignore_errors=True)
        shutil.copytree(r.dir, os.path.join(d, name),
                        ignore=shutil.ignore_patterns("*.vici", "*.pid"))
    if extra:
        with open(os.path.join(d, "timeline.txt"), "w") as f:
            f.write(extra)
    return d


def start_perf(pid, args, n):
    if not (args.perf and args.logs):
        return None
    d = os.path.join(args.logs, f"n{n}-vpnd-vpnd")
    os.makedirs(d, exist_ok=True)
    return subprocess.Popen(
        ["perf", "record", "-g", "-F", "499", "-p", str(pid), "-o",
         os.path.join(d, "perf.data")], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


def stop_perf(p):
    if p is None:
        return
    p.send_signal(signal.SIGINT)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def phase_vpnd_vpnd(topo, n, args):
    r = build(topo, n)
    res = {"rss_empty": empty_rss(r[1])}
    tz = time.monotonic()
    # zebra answers before the tunnels appear (as at boot)
    start_zebras(r, [zebra_conf(s, n) for s in (1, 2)])
    res["t_zebra"] = time.monotonic() - tz
    if args.bgp:
        t = time.monotonic()
        for s in (1, 2):
            r[s].start("bgpd", bgpd_conf(s, n, args.bgp_connect,
                                         ms_log(r[s], "bgpd"),
                                         args.bgp_passive and s == 2),
                       wait=False)
        res["t_bgpd"] = time.monotonic() - t
    wall0 = time.time()
    t0 = time.monotonic()
    cfg = []
    for s in (1, 2):
        ts = time.monotonic()
        r[s].start("vpnd", vpnd_conf(s, n, ms_log(r[s])), wait=False)
        cfg.append(time.monotonic() - ts)
    res["t_config"] = max(cfg)
    perf = start_perf(r[1].daemons["vpnd"], args, n)
    res["rss_cfg"] = rss_after_config(r[1], t0 + args.timeout)
    prog = Progress(t0, t0 + args.timeout, args.interval)
    for s in (1, 2):
        prog.add(f"vpn{s}", lambda to, s=s: ifaces(r[s], n)[1], n)
        if args.bgp:
            prog.add(f"bgp{s}", lambda to, s=s: bgp_up(r[s], to, n), n,
                     every=1.0)
    rss_up = [None, None]
    procs = [(f"{d}{s}", r[s].daemons.get(d)) for d in ("vpnd", "zebra",
                                                        "bgpd")
             for s in (1, 2)]

    def on_done(name):
        if prog.done(("vpn1", "vpn2")) and rss_up[0] is None:
            rss_up[:] = rss_kib(r[1].daemons["vpnd"])
            res["cpu_tunnels"] = cpu_text(procs)
            stop_perf(perf)
        if args.bgp and prog.done(("bgp1", "bgp2")):
            res["cpu_bgp"] = cpu_text(procs)

    try:
        prog.run(on_done=on_done)
    finally:
        stop_perf(perf)
    res.setdefault("cpu_tunnels", cpu_text(procs))
    if args.bgp:
        res.setdefault("cpu_bgp", cpu_text(procs))
    res["tunnels"] = prog.when("vpn1", "vpn2")
    res["tunnels_up"] = prog.count("vpn1", "vpn2")
    if args.bgp:
        bl = [bgp_up_log(ms_log(r[s], "bgpd"), wall0, n) for s in (1, 2)]
        res["bgp_log"] = None if None in bl else max(bl)
    logt = [carrier_all(ms_log(r[s]), wall0, n) for s in (1, 2)]
    res["tunnels_log"] = None if None in logt else max(logt)
    if args.bgp:
        res["bgp"] = prog.when("bgp1", "bgp2")
        res["bgp_up"] = prog.count("bgp1", "bgp2")
        res["t_zero"] = t0 - tz
    if rss_up[0] is None:
        rss_up[:] = rss_kib(r[1].daemons["vpnd"])
    res["rss_up"], res["hwm"] = rss_up
    res["rss_r2"] = rss_kib(r[2].daemons["vpnd"])[0]
    res["established"] = [vpnd_up(r[s], 60) for s in (1, 2)]
    res["shows"] = time_shows(r[1])
    res["ike_stats"] = "; ".join(f"r{s} {ike_stats(r[s])}" for s in (1, 2))
    res["ifaces"] = ifaces(r[1], n)
    res["config_log"] = config_log(r[1])
    res["poll_max"] = prog.poll_max
    tl = "".join(f"{name}'s vpnd log, seconds from clock zero:\n"
                 + timeline(ms_log(r[s]), wall0, n)
                 for s, name in ((1, "r1"), (2, "r2")))
    res["timeline"] = tl
    return res


def phase_bgp_veth(topo, n, args):
    """The anchor for BGP: the same two bgpds and N sessions, on the same
    /30s put straight on the veth (no tunnels, no vpnd)."""
    r = build(topo, n)
    mac = {s: json.loads(r[s].exec(["ip", "-j", "link", "show", "eth0"]))[0]
           ["address"] for s in (1, 2)}
    for s in (1, 2):
        o = 3 - s
        r[s].exec(["ip", "-batch", "-"], input="".join(
            f"addr add {inner(s, i, 30)} dev eth0\n"
            f"neigh replace {inner(o, i)} lladdr {mac[o]} dev eth0 "
            "nud permanent\n" for i in range(n)))
    res = {}
    tz = time.monotonic()
    start_zebras(r, ["", ""])
    res["t_zebra"] = time.monotonic() - tz
    wall0 = time.time()
    t0 = time.monotonic()
    for s in (1, 2):
        r[s].start("bgpd", bgpd_conf(s, n, args.bgp_connect,
                                     ms_log(r[s], "bgpd"),
                                     args.bgp_passive and s == 2),
                   wait=False)
    res["t_zero"] = t0 - tz
    procs = [(f"{d}{s}", r[s].daemons.get(d)) for d in ("zebra", "bgpd")
             for s in (1, 2)]
    prog = Progress(t0, t0 + args.timeout, args.interval)
    for s in (1, 2):
        prog.add(f"bgp{s}", lambda to, s=s: bgp_up(r[s], to, n), n,
                 every=1.0)
    prog.run()
    res["cpu_bgp"] = cpu_text(procs)
    res["bgp"] = prog.when("bgp1", "bgp2")
    res["bgp_up"] = prog.count("bgp1", "bgp2")
    bl = [bgp_up_log(ms_log(r[s], "bgpd"), wall0, n) for s in (1, 2)]
    res["bgp_log"] = None if None in bl else max(bl)
    res["poll_max"] = prog.poll_max
    return res


def phase_vpnd_swan(topo, n, args):
    r = build(topo, n, lo_inner=(2,))
    res = {"rss_empty": empty_rss(r[1])}
    r[1].start("zebra", zebra_conf(1, n))
    sw = Swan(r[2], log_levels=SWAN_LOG)
    try:
        for c in swan_conns(2, n, initiator=False):
            sw.add_conn(c)
        sw.start(load=False, timeout=30)
        t = time.monotonic()
        sw.write_config()
        sw.swanctl("--load-all", "--noprompt", "--file", sw.swanctl_path,
                   timeout=args.timeout)
        res["t_swan_load"] = time.monotonic() - t
        wall0 = time.time()
        t0 = time.monotonic()
        r[1].start("vpnd", vpnd_conf(1, n, ms_log(r[1]), routes=True),
                   wait=False)
        res["t_config"] = time.monotonic() - t0
        res["rss_cfg"] = rss_after_config(r[1], t0 + args.timeout)
        prog = Progress(t0, t0 + args.timeout, args.interval)
        prog.add("vpn1", lambda to: ifaces(r[1], n)[1], n)
        prog.add("swan2", lambda to: swan_up(sw), n)
        prog.run()
        res["cpu_tunnels"] = cpu_text([("vpnd1", r[1].daemons["vpnd"]),
                                       ("zebra1", r[1].daemons["zebra"]),
                                       ("charon2", sw.pid)])
        res["tunnels"] = prog.when("vpn1", "swan2")
        res["tunnels_log"] = carrier_all(ms_log(r[1]), wall0, n)
        res["tunnels_up"] = prog.count("vpn1", "swan2")
        res["rss_up"], res["hwm"] = rss_kib(r[1].daemons["vpnd"])
        res["rss_swan"] = rss_kib(sw.pid)[0]
        res["ifaces"] = ifaces(r[1], n)
        res["established"] = [vpnd_up(r[1], 60)]
        res["config_log"] = config_log(r[1])
        res["ike_stats"] = "r1 " + ike_stats(r[1])
        res["poll_max"] = prog.poll_max
        res["timeline"] = ("r1's vpnd log, seconds from clock zero:\n"
                           + timeline(ms_log(r[1]), wall0, n))
    finally:
        sw.stop()
    return res


def phase_swan_swan(topo, n, args):
    r = build(topo, n, lo_inner=(1, 2))
    resp = Swan(r[2], log_levels=SWAN_LOG)
    init = Swan(r[1], log_levels=SWAN_LOG)
    res = {}
    try:
        for sw, side, ini in ((resp, 2, False), (init, 1, True)):
            for c in swan_conns(side, n, initiator=ini):
                sw.add_conn(c)
            sw.start(load=False, timeout=30)
            sw.write_config()
        t = time.monotonic()
        resp.swanctl("--load-all", "--noprompt", "--file",
                     resp.swanctl_path, timeout=args.timeout)
        res["t_swan_load"] = time.monotonic() - t
        t0 = time.monotonic()
        init.swanctl("--load-all", "--noprompt", "--file",
                     init.swanctl_path, timeout=args.timeout)
        res["t_config"] = time.monotonic() - t0
        prog = Progress(t0, t0 + args.timeout, args.interval)
        prog.add("swan1", lambda to: swan_up(init), n)
        prog.add("swan2", lambda to: swan_up(resp), n)
        prog.run()
        res["cpu_tunnels"] = cpu_text([("charon1", init.pid),
                                       ("charon2", resp.pid)])
        res["tunnels"] = prog.when("swan1", "swan2")
        res["tunnels_up"] = prog.count("swan1", "swan2")
        res["rss_swan"] = rss_kib(resp.pid)[0]
        res["rss_swan1"] = rss_kib(init.pid)[0]
        res["poll_max"] = prog.poll_max
    finally:
        init.stop()
        resp.stop()
    return res


RUN = {"vpnd-vpnd": phase_vpnd_vpnd, "bgp-veth": phase_bgp_veth,
       "vpnd-swan": phase_vpnd_swan,
       "swan-swan": phase_swan_swan}


def report(n, phase, res, args):
    to = args.timeout
    parts = [f"N={n:5d} {phase:9s}"]
    if "t_config" in res:
        cl = res.get("config_log", "")
        m = re.search(r"took (\d+) ms", cl)
        if m:
            parts.append(f"config read {int(m.group(1)) / 1000:.2f}s")
        else:
            parts.append(f"config {res['t_config']:.2f}s")
    first, half, full = res.get("tunnels", (0, 0, 0))
    up = res.get("tunnels_up")
    if "tunnels" not in res:
        pass
    elif full is None:
        parts.append(f"tunnels >{to:.0f}s ({up}/{n} up; first "
                     f"{fmt_t(first, to)}, half {fmt_t(half, to)})")
    else:
        parts.append(f"tunnels {full:.2f}s ({n / full:.1f} SA/s; first "
                     f"{first:.2f}s, half {half:.2f}s)")
    if res.get("tunnels_log"):
        tl = res["tunnels_log"]
        parts.append(f"[vpnd log: all carrier up at {tl:.2f}s, "
                     f"{n / tl:.1f} SA/s]")
    if "bgp" in res:
        bf = res["bgp"][2]
        if bf is None:
            parts.append(f"bgp >{to:.0f}s ({res['bgp_up']}/{n} Established)")
        else:
            parts.append(f"bgp {bf:.2f}s (total {bf + res['t_zero']:.2f}s "
                         "from zebra)")
        if res.get("bgp_log"):
            parts.append(f"[bgpd log: N-th neighbour first Up at "
                         f"{res['bgp_log']:.2f}s]")
    if res.get("rss_up"):
        per = (res["rss_up"] - res["rss_empty"]) / n
        parts.append(f"vpnd rss {res['rss_up'] / 1024:.1f} MiB "
                     f"({per:.1f} KiB/tunnel over empty "
                     f"{res['rss_empty'] / 1024:.1f} MiB; "
                     + (f"after config read {res['rss_cfg'] / 1024:.1f} MiB"
                        if res.get("rss_cfg") else "")
                     + f"; peak {res['hwm'] / 1024:.1f} MiB)")
    if res.get("rss_swan"):
        parts.append(f"charon rss {res['rss_swan'] / 1024:.1f} MiB")
    if "ifaces" in res:
        parts.append(f"ifaces {res['ifaces'][0]}/{n} "
                     f"(carrier {res['ifaces'][1]})")
    if "established" in res:
        parts.append("vpnd established " + ", ".join(
            f"r{s + 1} {e}" for s, e in enumerate(res["established"])))
    print("  ".join(parts), flush=True)
    extra = []
    for k, label in (("t_zebra", "zebra up"), ("t_bgpd", "bgpd launched"),
                     ("t_swan_load", "responder charon loaded"),
                     ("poll_max", "slowest poll")):
        if k in res:
            extra.append(f"{label} {res[k]:.2f}s")
    if res.get("config_log"):
        extra.append(f"vpnd: {res['config_log']}")
    if res.get("ike_stats"):
        extra.append(f"IKE counters: {res['ike_stats']}")
    if res.get("shows"):
        extra.append("r1's show commands, slowest: " + ", ".join(
            f"{c} {t * 1000:.0f} ms ({b // 1024} KiB)"
            for t, c, b in res["shows"][:3]))
    if extra:
        print("        " + "; ".join(extra), flush=True)
    for k, label in (("cpu_tunnels", "until tunnels up"),
                     ("cpu_bgp", "until BGP up")):
        if res.get(k):
            print(f"        CPU used {label}: {res[k]}", flush=True)
    if args.timeline and res.get("timeline"):
        print(res["timeline"], end="", flush=True)


def run_n(n, args):
    for phase in args.phases:
        if phase == "bgp-veth" and not args.bgp:
            continue
        load = open("/proc/loadavg").read().split()[:3]
        print(f"# N={n} {phase}: load average {' '.join(load)} before",
              flush=True)
        with Topo(f"sc{n}") as topo:
            try:
                res = RUN[phase](topo, n, args)
            except Exception as e:  # noqa: BLE001 - report and go on
                print(f"N={n:5d} {phase:9s} FAILED: {e}"[:2000], flush=True)
                keep_logs(topo, n, phase, args)
                continue
            report(n, phase, res, args)
            keep_logs(topo, n, phase, args, res.get("timeline", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--bgp", action="store_true",
                    help="an eBGP session over each tunnel (vpnd-vpnd)")
    ap.add_argument("--phases", default=",".join(PHASES),
                    help="comma-separated, of " + ", ".join(PHASES))
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds per phase (default 120)")
    ap.add_argument("--interval", type=float, default=0.5,
                    help="polling interval in seconds (default 0.5)")
    ap.add_argument("--bgp-connect", type=int, default=5,
                    help="bgpd's connect-retry timer (default 5, as in "
                    "configs/)")
    ap.add_argument("--bgp-passive", action="store_true",
                    help="r2's neighbours passive (only r1 connects: no "
                    "BGP connection collisions)")
    ap.add_argument("--logs", help="keep each phase's logs under this "
                    "directory")
    ap.add_argument("--perf", action="store_true",
                    help="perf record r1's vpnd in vpnd-vpnd (with --logs)")
    ap.add_argument("--timeline", action="store_true",
                    help="print the timeline of vpnd's log events")
    args = ap.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    for p in args.phases:
        if p not in PHASES:
            ap.error(f"unknown phase {p}")
    if max(args.n) > 16384:
        ap.error("at most 16384 tunnels (169.254.0.0/16 in /30s)")
    if os.geteuid() != 0:
        ap.error("run as root (network namespaces)")
    if args.perf and not args.logs:
        ap.error("--perf needs --logs")
    print(f"vpnd: {VPND}; {os.cpu_count()} CPUs (both routers share them); "
          f"timeout {args.timeout:.0f}s; {'with' if args.bgp else 'no'} "
          f"BGP; {datetime.datetime.now():%Y-%m-%d %H:%M}", flush=True)
    for n in args.n:
        run_n(n, args)


if __name__ == "__main__":
    main()
