#!/usr/bin/python3
"""vpnd demo lab: the two-site scenario of configs/two-site in network
namespaces. Two routers, each running Debian's zebra and bgpd plus vpnd
with the files of configs/two-site/<router>/, joined by a veth underlay,
with a host behind each. Shows the tunnel, the BGP routes learned over it
and a ping across, then tears the lab down; --keep leaves it running and
--down removes it later."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "lib"))
from scenario import Lab, bgp_established, route_summary  # noqa: E402
from topo import (FRR_RUN, REPO, Topo, netns_kill_all, netns_list,  # noqa: E402
                  sh)

PREFIX = "vpndemo"  # namespaces and pathspaces: vpndemo-<name>
STATE = f"/run/{PREFIX}.json"
# FRR's vtysh built with vpnd (scripts/setup); -N reads /etc/frr/<pathspace>/
VTYSH = os.path.join(REPO, "build-vtysh", "vtysh")
ETC_FRR = "/etc/frr"

PICTURE = """\
  host h-a 10.1.0.10                                    host h-b 10.2.0.10
        |                                                        |
  lan0 10.1.0.1                                          lan0 10.2.0.1
  router site-a, AS 65001                      router site-b, AS 65002
  vpn-b 169.254.21.1/30 ===== IPsec tunnel, eBGP ===== vpn-a 169.254.21.2/30
  eth0 192.0.2.1/24 ---------- underlay (veth) ---------- eth0 192.0.2.2/24
"""


def say(text=""):
    try:
        print(text, flush=True)
    except BrokenPipeError:  # output cut (| head): finish, quietly
        sys.stdout = open(os.devnull, "w")


def table(text):
    """A show command's output without its legend: the lines from the
    column header (show ip bgp) or the first route (show ip route) on."""
    lines = text.rstrip().splitlines()
    for i, l in enumerate(lines):
        if l.lstrip().startswith("Network") or l[:2] in ("B>", "B ", "B*"):
            return "\n".join(lines[i:])
    return "\n".join(lines)


def show(r, daemon, cmd, legend=True):
    say(f"\n{r.name}# {cmd}")
    out = r.cmd(daemon, cmd)
    say((out if legend else table(out)).rstrip() or "(nothing)")


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return True
        except Exception:  # noqa: BLE001 - daemons still starting
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no {what} after {timeout} s")


def save_state(topo):
    state = {"dir": topo.dir, "routers": {
        name: {"ns": r.ns, "pathspace": r.pathspace, "daemons": r.daemons}
        for name, r in topo.routers.items()}}
    with open(STATE, "w") as f:
        json.dump(state, f, indent=1)


def is_our_daemon(pid, pathspace):
    """pid is still a daemon we started (its command line names our
    pathspace), not a recycled pid."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return pathspace.encode() in f.read().split(b"\0")
    except FileNotFoundError:
        return False


def down(quiet=False):
    """Stop the daemons of a kept lab (SIGTERM: vpnd deletes its SAs),
    then remove its namespaces, FRR run directories and files."""
    state = {"dir": None, "routers": {}}
    if os.path.exists(STATE):
        with open(STATE) as f:
            state = json.load(f)
    pids = [(int(pid), r["pathspace"]) for r in state["routers"].values()
            for pid in r["daemons"].values()]
    for pid, ps in pids:
        if is_our_daemon(pid, ps):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while (any(is_our_daemon(p, ps) for p, ps in pids)
           and time.monotonic() < deadline):
        time.sleep(0.1)
    found = False
    for ns in netns_list():
        if ns.startswith(PREFIX + "-"):
            found = True
            netns_kill_all(ns)  # only our own namespaces' processes
            sh(["ip", "netns", "del", ns], check=False)
            shutil.rmtree(os.path.join(FRR_RUN, ns), ignore_errors=True)
    if state["dir"]:
        shutil.rmtree(state["dir"], ignore_errors=True)
    for name in state["routers"]:
        etc = os.path.join(ETC_FRR, f"{PREFIX}-{name}")
        if os.path.isdir(etc):
            shutil.rmtree(etc, ignore_errors=True)
    if os.path.exists(STATE):
        os.unlink(STATE)
    if not quiet:
        say("demo lab removed" if found else "no demo lab was running")


def up(keep):
    topo = Topo("demo")
    topo.prefix = PREFIX  # fixed names: vpndemo-site-a, vpndemo-h-a...
    ok = False
    try:
        ok = show_lab(topo)
    except KeyboardInterrupt:
        say("\ninterrupted")
    finally:
        if not keep:
            say("\ntearing down ...")
            down(quiet=True)
            topo.routers = {}
            topo.close()
            say("demo lab torn down")
    if keep:
        say("\nlab kept. Try:")
        say(f"  ip netns exec {PREFIX}-h-b ping 10.1.0.10")
        if os.access(VTYSH, os.X_OK):
            for name in ("site-a", "site-b"):  # vtysh -N reads vtysh.conf
                etc = os.path.join(ETC_FRR, f"{PREFIX}-{name}")
                os.makedirs(etc, exist_ok=True)
                open(os.path.join(etc, "vtysh.conf"), "a").close()
            say(f"  {rel(VTYSH)} -N {PREFIX}-site-a -c 'show vpn sa'")
            say(f"  {rel(VTYSH)} -N {PREFIX}-site-b     "
                "(zebra, bgpd and vpnd)")
        else:
            say(f"  vtysh -N {PREFIX}-site-a -c 'show ip bgp summary'   "
                "(Debian's vtysh: zebra and bgpd)")
            say(f"  {rel(__file__)} --vty site-a 'show vpn sa'   (vpnd)")
        say(f"remove it with: {rel(__file__)} --down")
    return 0 if ok else 1


def rel(path):
    """path relative to the current directory when under it."""
    r = os.path.relpath(path)
    return os.path.abspath(path) if r.startswith("..") else r


def show_lab(topo):
    """Bring the lab up and show it; False (after saying why) on failure."""
    try:
        say("vpnd demo lab: two sites, eBGP over one IPsec tunnel "
            "(configs/two-site)\n")
        say(PICTURE)
        t0 = time.monotonic()
        lab = Lab(topo, "two-site")
        save_state(topo)
        a, b = lab.r["site-a"], lab.r["site-b"]
        say("waiting for the tunnel and BGP ...")
        wait(lambda: lab.vpn("site-a", "site-b")["state"] == "established",
             30, "established tunnel")
        wait(lambda: bgp_established(a, "169.254.21.2"), 40,
             "BGP session over the tunnel")
        wait(lambda: route_summary(a, "10.2.0.0/24") == "bgp via vpn-b"
             and route_summary(b, "10.1.0.0/24") == "bgp via vpn-a", 30,
             "BGP routes over the tunnel")
        say(f"up in {time.monotonic() - t0:.1f} s")

        show(a, "vpnd", "show vpn connection")
        show(a, "bgpd", "show ip bgp", legend=False)
        show(a, "zebra", "show ip route bgp", legend=False)
        show(b, "zebra", "show ip route bgp", legend=False)
        say("\nh-a$ ping -c 3 10.2.0.10")
        res = subprocess.run(["ip", "netns", "exec", lab.h["h-a"].ns,
                              "ping", "-c", "3", "-i", "0.3", "10.2.0.10"],
                             capture_output=True, text=True, timeout=20)
        say(res.stdout.rstrip() + res.stderr.rstrip())
        if res.returncode != 0:
            raise RuntimeError("the ping across the tunnel failed")
        return True
    except Exception as e:  # noqa: BLE001 - reported, then torn down
        say(f"\ndemo failed: {e}")
        for r in topo.routers.values():
            if "vpnd" in r.daemons:
                say(f"  {r.name}'s logs: {r.dir}/ (run with --keep to keep them)")
        return False


def vty(router, cmd):
    """Run one command on a kept lab's vpnd (vtysh does not know vpnd
    yet)."""
    from frrvty import Vty
    path = os.path.join(FRR_RUN, f"{PREFIX}-{router}", "vpnd.vty")
    if not os.path.exists(path):
        say(f"no vpnd of a demo lab at {path} (start one with --keep)")
        return 1
    with Vty(path) as v:
        v.run("enable")
        status, out = v.cmd(cmd)
    say(out.rstrip())
    return 0 if status == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keep", action="store_true",
                    help="leave the lab running (namespaces vpndemo-*, "
                    "vty sockets in /var/run/frr/vpndemo-*/)")
    ap.add_argument("--down", action="store_true",
                    help="remove a lab left by --keep")
    ap.add_argument("--vty", nargs=2, metavar=("ROUTER", "COMMAND"),
                    help="run a command on a kept lab's vpnd "
                    "(site-a or site-b)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        say("the demo lab needs root (network namespaces)")
        return 1
    if args.down:
        down()
        return 0
    if args.vty:
        return vty(*args.vty)
    if os.path.exists(STATE) or any(n.startswith(PREFIX + "-")
                                    for n in netns_list()):
        say("removing the demo lab left running before")
        down(quiet=True)
    return up(args.keep)


if __name__ == "__main__":
    sys.exit(main())
