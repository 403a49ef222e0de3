"""Scenario g: the two-site BGP scenario with strongSwan on one side
(configs/strongswan-two-site), and the same scenario vpnd to vpnd.

    h-a -- site-a: zebra, bgpd, vpnd ==== IKE + ESP-in-UDP ==== site-b -- h-b
           vpn-b 169.254.21.1/30                  charon (kernel-libipsec),
           192.0.2.1 ------------- veth --------- zebra, bgpd
                                                  ipsec0 169.254.21.2/30
                                                  192.0.2.2

kernel-libipsec has one interface (ipsec0) for every SA, so strongSwan's
traffic selectors name what may cross: 169.254.21.0/30 plus the site
prefixes. vpnd names the same selectors (it takes a peer's narrowed
selectors only inside its own traffic selectors or route prefixes) and
routes the remote selectors into vpn-b through zebra; BGP runs over the tunnel on both
sides. The vpnd-to-vpnd variant gives site B's vpnd the same narrow
selectors (configs/strongswan-two-site/site-b-vpnd).

strongSwan's files are used as they are, but for two substitutions: the
vici socket and the log file move to this instance's directory.
"""
import json
import re

import pytest

from scenario import Lab, bgp_peer, read_conf, route_summary, \
    wait_bgp, wait_route
from swan import Swan
from topo import Topo, wait_for

SCEN = "strongswan-two-site"


def conn_routes(lab, router, conn):
    """{prefix: (source, installed)} of vpnd's routes for a connection."""
    return {r["prefix"]: (r["source"], r["installed"])
            for r in lab.vpn(router, conn).get("routes", [])}


def wait_ts_routes(lab, router, conn, prefixes):
    """vpnd lists the peer's narrowed selectors as its routes, installed."""
    want = {p: ("traffic-selector", True) for p in prefixes}
    seen = {}

    def ok():
        seen.clear()
        seen.update(conn_routes(lab, router, conn))
        return all(seen.get(p) == v for p, v in want.items())
    try:
        wait_for(ok, 10, "traffic-selector routes")
    except TimeoutError:
        raise AssertionError(f"{router}: vpnd routes of {conn}: expected "
                             f"{want}, seen {seen}") from None


def check_bgp_and_traffic(lab, a, b):
    wait_bgp(a, "169.254.21.2")
    wait_bgp(b, "169.254.21.1")
    # each side learned the other's prefix over the tunnel, through BGP
    for r, nbr, prefix in ((a, "169.254.21.2", "10.2.0.0/24"),
                           (b, "169.254.21.1", "10.1.0.0/24")):
        wait_for(lambda: bgp_peer(r, nbr)["addressFamilyInfo"][
            "ipv4Unicast"].get("acceptedPrefixCounter") == 1, 20,
            f"{r.name}: one prefix accepted from {nbr}")
        bgp = json.loads(r.cmd("bgpd", f"show ip bgp {prefix} json"))
        hops = [h["ip"] for p in bgp.get("paths", [])
                for h in p.get("nexthops", [])]
        assert nbr in hops, f"{r.name}: BGP {prefix}: {bgp}"
    # site A: vpnd's selector route (distance 10) or BGP's, via vpn-b
    wait_for(lambda: route_summary(a, "10.2.0.0/24") in
             ("nhrp via vpn-b", "bgp via vpn-b"), 10,
             f"site-a route 10.2.0.0/24 via vpn-b (seen "
             f"{route_summary(a, '10.2.0.0/24')})")
    out = a.exec(["ip", "route", "get", "10.2.0.10"])
    assert "dev vpn-b" in out, out
    for h, dst in (("h-a", "10.2.0.10"), ("h-b", "10.1.0.10")):
        ok, out = lab.ping(h, dst, count=3)
        assert ok, f"ping {h} -> {dst} failed:\n{out}"
    # the BGP session itself crosses the tunnel
    ok, out = lab.ping("site-a", "169.254.21.2")
    assert ok, out


def secret_of(text):
    return re.search(r'secret = "([^"]+)"', text).group(1)


@pytest.fixture
def labs():
    """make() -> Lab; every lab is torn down after the test."""
    made = []

    def make(*a, **kw):
        topo = Topo("swbgp")
        made.append(topo)
        return Lab(topo, SCEN, *a, **kw)
    try:
        yield make
    finally:
        for topo in made:
            topo.close()


def print_state(lab):
    """What every router shows (tunnels, BGP, routes): a failure's output."""
    print(f"===== {lab.scenario}: state at failure")
    print(lab.snapshot())


def test_strongswan_two_site(labs):
    """vpnd (site A) and strongSwan (site B), each with zebra and bgpd:
    vpnd narrows to strongSwan's selectors and routes them; BGP runs over
    the tunnel and carries both sites' prefixes; the hosts reach each
    other."""
    lab = labs()
    a, b = lab.r["site-a"], lab.r["site-b"]
    sw = Swan(b)
    swanctl = read_conf(SCEN, "site-b", "swanctl.conf")
    sw.strongswan_conf_text = read_conf(SCEN, "site-b", "strongswan.conf", {
        "/var/log/charon.log": sw.log_path,
        "unix:///var/run/charon.vici": f"unix://{sw.vici_path}"})
    sw.swanctl_conf_text = swanctl
    sw.secrets.append(secret_of(swanctl))
    try:
        sw.start()
        sw.wait_established(20, child="site-a")
        lab.wait_established("site-a", "site-b")
        # vpnd narrowed to strongSwan's selectors and routes the remote
        # ones into the tunnel through zebra
        wait_ts_routes(lab, "site-a", "site-b", ["10.2.0.0/24"])
        wait_for(lambda: "10.2.0.0/24" in a.cmd("zebra",
                                                "show ip route nhrp"),
                 10, "site-a: 10.2.0.0/24 in 'show ip route nhrp'")
        # zebra addressed strongSwan's ipsec0; BGP routes through it
        wait_for(lambda: "169.254.21.2/30" in b.exec(
            ["ip", "-o", "addr", "show", "ipsec0"]), 10, "ipsec0 address")
        wait_route(b, "10.1.0.0/24", "bgp via ipsec0")
        wait_route(b, "10.1.0.0/24", "bgp ipsec0", where="kernel")
        check_bgp_and_traffic(lab, a, b)
        sa = sw.established(child="site-a")
        child = next(iter(sa["child-sas"].values()))
        assert sorted(child["local-ts"]) == ["10.2.0.0/24",
                                             "169.254.21.0/30"], child
    except BaseException:
        print_state(lab)
        print("===== charon's log (tail)")
        print(sw.log_tail(60))
        raise
    finally:
        sw.stop()


def test_vpnd_two_site_narrowed(labs):
    """The same scenario vpnd to vpnd, site B with strongSwan's narrow
    selectors: site A narrows, and both sides route the peer's selectors
    through zebra."""
    lab = labs(conf_dirs={"site-b": "site-b-vpnd"})
    a, b = lab.r["site-a"], lab.r["site-b"]
    try:
        lab.wait_established("site-a", "site-b")
        lab.wait_established("site-b", "site-a")
        wait_ts_routes(lab, "site-a", "site-b", ["10.2.0.0/24"])
        wait_ts_routes(lab, "site-b", "site-a", ["10.1.0.0/24"])
        check_bgp_and_traffic(lab, a, b)
        wait_for(lambda: route_summary(b, "10.1.0.0/24") in
                 ("nhrp via vpn-a", "bgp via vpn-a"), 10,
                 "site-b route 10.1.0.0/24 via vpn-a")
    except BaseException:
        print_state(lab)
        raise
