#!/usr/bin/python3
"""vpnd demo lab: a router namespace running Debian's zebra and vpnd with
the example configuration (configs/example), linked to a peer namespace
over a veth pair. Prints what an operator would look at, then tears the
lab down (or keeps it with --keep; remove it later with --down)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
from topo import REPO, Topo, sweep_stale, wait_for  # noqa: E402

CONF = os.path.join(REPO, "configs", "example")


def show(r, daemon, cmd):
    print(f"\n{r.name}# {cmd}")
    print(r.cmd(daemon, cmd).rstrip())


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keep", action="store_true",
                    help="leave the lab running (vty sockets under "
                    "/var/run/frr/<pathspace>/)")
    ap.add_argument("--down", action="store_true",
                    help="remove a lab left by --keep")
    args = ap.parse_args()

    if args.down:
        os.environ["VPND_SWEEP_ALL"] = "1"
        sweep_stale()
        print("demo lab removed")
        return 0

    topo = Topo("demo")
    try:
        gw = topo.add_router("gw-a")
        peer = topo.add_router("peer")
        a_if, _ = topo.add_link(gw, peer, None, "192.0.2.2/24")
        gw.exec(["ip", "link", "set", a_if, "down"])
        gw.exec(["ip", "link", "set", a_if, "name", "eth0"])
        gw.exec(["ip", "link", "set", "eth0", "up"])
        gw.start("zebra", open(os.path.join(CONF, "zebra.conf")).read())
        gw.start("vpnd", open(os.path.join(CONF, "vpnd.conf")).read())
        wait_for(lambda: "Client: nhrp" in gw.cmd("zebra", "show zebra client"),
                 10, "vpnd to register with zebra")
        print(f"demo lab up: router namespace {gw.ns}, FRR pathspace "
              f"{gw.pathspace}")
        show(gw, "zebra", "show interface brief")
        show(gw, "vpnd", "show vpn connection")
        show(gw, "vpnd", "show vpn policy")
        if args.keep:
            print(f"\nlab kept; remove it with: scripts/demo.py --down")
            topo.routers = {}  # do not tear down
            return 0
    finally:
        if not args.keep:
            topo.close()
            print("\ndemo lab torn down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
