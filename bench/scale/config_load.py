#!/usr/bin/python3
"""Time for vpnd to load a configuration of N connections, four ways.

  startup   vpnd -f FILE: from starting the daemon until its vty answers
            (the file is read before the vty serves anyone) and
            'show running-config' lists all N connections
  sighup    the same file with one connection changed, re-read on SIGHUP:
            until 'show running-config' shows the change
  vtysh-b   vpnd started empty, then 'vtysh -b -d vpnd' with the same
            configuration as the integrated frr.conf (the built vtysh,
            build-vtysh/vtysh; without it, the same command sequence over
            vpnd's vty socket: XFRR_start_configuration, the lines,
            XFRR_end_configuration)
  netconf   vpnd started empty with the NETCONF module, then one
            <edit-config> to running with N connections

Each connection has its own remote address (10.<i/250>.<i%250>.2, nothing
answers there), its own interface vpn<i>, a pre-shared key, and is
'shutdown' (--no-shutdown leaves them up: then vpnd also creates N tunnel
interfaces and starts N initiations, which this does not set out to
measure). A phase that runs past --timeout is stopped and reported as
'>TIMEOUT'.

Run as root (network namespaces), from anywhere:

  bench/scale/config_load.py                      # N = 100 400 1000
  bench/scale/config_load.py -n 300 --phases startup,sighup
  VPND_BUILD=build-asan bench/scale/config_load.py -n 300

Prints one line per N and phase, with the seconds and vpnd's own
"configuration ... read" log line when it has one. Figures, not
pass/fail. Results are in README.md ("Loading large configurations").
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, os.path.join(REPO, "tests", "netconf"))
sys.path.insert(0, os.path.join(REPO, "tests", "vtysh"))

from frrvty import Vty  # noqa: E402
from topo import BUILD, Topo  # noqa: E402

PHASES = ("startup", "sighup", "vtysh-b", "netconf")
NS = "urn:vpnd:params:xml:ns:yang:vpnd"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"


class Timeout(Exception):
    pass


def remote(i):
    return f"10.{i // 250}.{i % 250}.2"


def conf_lines(n, shutdown=True, changed=None):
    """vpnd's configuration with n connections; connection `changed` (an
    index) gets another dpd interval, for the SIGHUP re-read."""
    out = ["vpn"]
    for i in range(n):
        out += [f" connection c{i}",
                "  local-address 192.0.2.1",
                f"  remote-address {remote(i)}",
                f"  pre-shared-key secret-{i}",
                f"  interface vpn{i}"]
        if i == changed:
            out.append("  dpd interval 7")
        if shutdown:
            out.append("  shutdown")
        out.append(" exit")
    out.append("exit")
    return out


def conf_xml(n, shutdown=True):
    conns = "".join(
        f"<connection><name>c{i}</name>"
        "<local-address>192.0.2.1</local-address>"
        f"<remote-address>{remote(i)}</remote-address>"
        f"<pre-shared-key>secret-{i}</pre-shared-key>"
        f"<interface>vpn{i}</interface>"
        + ("<shutdown>true</shutdown>" if shutdown else "")
        + "</connection>" for i in range(n))
    return f'<config xmlns="{NC}"><vpn xmlns="{NS}">{conns}</vpn></config>'


def count_conns(r, timeout):
    with Vty(r.vty_path("vpnd"), timeout=timeout) as v:
        v.run("enable")
        run = v.run("show running-config")
    return sum(1 for l in run.splitlines() if l.startswith(" connection ")), run


def wait_vty(r, deadline):
    """Connect to vpnd's vty as soon as the socket exists and run 'enable':
    it answers once the configuration file has been read."""
    path = r.vty_path("vpnd")
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        if os.path.exists(path):
            try:
                with Vty(path, timeout=left) as v:
                    v.run("enable")
                return
            except OSError:
                if time.monotonic() >= deadline:
                    raise Timeout()
        time.sleep(0.02)


def config_log(r, phase):
    """vpnd's own account of the load, from its log: its "configuration
    file ... read" line for startup and sighup, FRR's "Configuration Read
    in Took" for vtysh -b."""
    try:
        text = open(r.log_path("vpnd")).read()
    except OSError:
        return ""
    want = {"startup": "configuration file", "sighup": "configuration file",
            "vtysh-b": "Configuration Read in Took"}.get(phase)
    lines = [l for l in text.splitlines() if want and want in l]
    if not lines:
        return ""
    line = lines[-1]
    return line[line.index(want):]


def start_vpnd(r, conf, extra=()):
    """Start vpnd without waiting for its vty (Router.start waits 15 s)."""
    return r.start("vpnd", conf, extra=list(extra), wait=False)


def phase_startup(topo, n, args):
    r = topo.routers["r1"]
    text = "\n".join(conf_lines(n, args.shutdown)) + "\n"
    t0 = time.monotonic()
    start_vpnd(r, text)
    wait_vty(r, t0 + args.timeout)
    t = time.monotonic() - t0
    got, _ = count_conns(r, args.timeout)
    return t, got


def phase_sighup(topo, n, args):
    """Needs the vpnd of phase_startup, still running."""
    r = topo.routers["r1"]
    r.write_conf("vpnd", "\n".join(
        conf_lines(n, args.shutdown, changed=n - 1)) + "\n")
    t0 = time.monotonic()
    os.kill(r.daemons["vpnd"], signal.SIGHUP)
    while True:
        left = t0 + args.timeout - time.monotonic()
        if left <= 0:
            raise Timeout()
        got, run = count_conns(r, left)
        if "  dpd interval 7" in run:
            return time.monotonic() - t0, got
        time.sleep(0.05)


def vtysh_boot(r, lines, args):
    """vtysh -b -d vpnd with lines as the integrated frr.conf; or, without
    the built vtysh, what it sends to vpnd."""
    vtysh = args.vtysh
    if vtysh and os.access(vtysh, os.X_OK):
        from vtysh_helpers import make_etc
        d = make_etc(r.pathspace)
        try:
            with open(os.path.join(d, "frr.conf"), "w") as f:
                f.write("frr defaults traditional\n!\n")
                f.write("\n".join(lines) + "\n!\nend\n")
            res = subprocess.run(
                ["ip", "netns", "exec", r.ns, vtysh, "-N", r.pathspace,
                 "-b", "-d", "vpnd"], capture_output=True, text=True,
                timeout=args.timeout)
            if res.returncode != 0:
                print(f"  vtysh -b exited {res.returncode}: "
                      f"{(res.stdout + res.stderr)[-500:]}")
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return
    with Vty(r.vty_path("vpnd"), timeout=args.timeout) as v:
        v.run("enable")
        v.run("configure terminal")
        v.run("XFRR_start_configuration")
        for l in lines:
            v.cmd(l)
        v.cmd("XFRR_end_configuration")
        v.cmd("end")


def phase_vtysh(topo, n, args):
    r = topo.routers["r1"]
    r.stop("vpnd")
    start_vpnd(r, "")
    wait_vty(r, time.monotonic() + 30)
    lines = conf_lines(n, args.shutdown)
    t0 = time.monotonic()
    try:
        vtysh_boot(r, lines, args)
    except subprocess.TimeoutExpired:
        raise Timeout()
    t = time.monotonic() - t0
    got, _ = count_conns(r, args.timeout)
    return t, got


def phase_netconf(topo, n, args):
    import nclib
    if not os.path.exists(nclib.MODULE):
        raise RuntimeError(f"no NETCONF module ({nclib.MODULE})")
    r = topo.routers["r1"]
    r.stop("vpnd")
    keys = nclib.Keys(topo.dir)
    nclib.start_vpnd(r, keys)
    xml = conf_xml(n, args.shutdown)
    with nclib.connect(r, keys, timeout=args.timeout) as m:
        m.timeout = args.timeout
        t0 = time.monotonic()
        try:
            m.edit_config(target="running", config=xml)
        except Exception as e:  # noqa: BLE001 - ncclient's timeout types
            if time.monotonic() - t0 >= args.timeout - 1:
                raise Timeout()
            raise
        t = time.monotonic() - t0
    got, _ = count_conns(r, args.timeout)
    return t, got


RUN = {"startup": phase_startup, "sighup": phase_sighup,
       "vtysh-b": phase_vtysh, "netconf": phase_netconf}


def run_n(n, args):
    results = []
    with Topo("cfgload") as topo:
        r = topo.add_router("r1")
        alive = False
        for ph in args.phases:
            if ph == "sighup" and not alive:
                results.append((ph, None, None, "needs startup"))
                continue
            try:
                t, got = RUN[ph](topo, n, args)
                results.append((ph, t, got, config_log(r, ph)))
                alive = ph == "startup" or (alive and ph == "sighup")
            except Timeout:
                results.append((ph, None, None, f">{args.timeout}s"))
                r.stop("vpnd", signal.SIGKILL)
                alive = False
            print_result(n, *results[-1])
        r.stop("vpnd")
    return results


def print_result(n, ph, t, got, note):
    if t is None:
        print(f"N={n:5d} {ph:8s} {'-':>8s}  {note}", flush=True)
        return
    ok = "" if got == n else f"  ONLY {got} of {n} connections"
    print(f"N={n:5d} {ph:8s} {t:8.2f}s{ok}"
          + (f"  [{note}]" if note else ""), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, nargs="+", default=[100, 400, 1000])
    ap.add_argument("--phases", default=",".join(PHASES),
                    help="comma-separated, of " + ", ".join(PHASES))
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--no-shutdown", dest="shutdown", action="store_false")
    ap.add_argument("--vtysh", default=os.environ.get(
        "VPND_VTYSH", os.path.join(REPO, "build-vtysh", "vtysh")))
    args = ap.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    for p in args.phases:
        if p not in PHASES:
            ap.error(f"unknown phase {p}")
    if os.geteuid() != 0:
        ap.error("run as root (network namespaces)")
    print(f"vpnd: {os.environ.get('VPND_BIN', os.path.join(BUILD, 'vpnd', 'vpnd'))}"
          f"; {os.cpu_count()} CPUs; timeout {args.timeout:.0f}s", flush=True)
    for n in args.n:
        run_n(n, args)


if __name__ == "__main__":
    main()
