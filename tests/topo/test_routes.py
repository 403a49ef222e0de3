"""vpnd as a zebra client: routes through zebra (type NHRP), nexthop
tracking of the remote-address, the underlay pin, and the carrier
following the underlay.

Two routers (zebra + vpnd each) joined by a veth underlay; see
test_tunnel.py for the basic tunnel.
"""
import json
import time

from frrvty import VtyError
from topo import Topo, wait_for
from test_tunnel import Pair, carrier, conn_json, ping, vpnd_conf, \
    wait_established


def routes(r, proto="nhrp", family="ip"):
    out = r.cmd("zebra", f"show {family} route {proto} json")
    return json.loads(out) if out.strip() else {}


def selected_via(r, prefix, family="ip"):
    """Protocol and interface names of prefix's selected route."""
    try:
        j = json.loads(r.cmd("zebra", f"show {family} route {prefix} json")
                       or "{}")
    except VtyError:  # no such route (yet)
        return None, []
    for entry in j.get(prefix, []):
        if entry.get("selected"):
            return entry["protocol"], sorted(
                nh.get("interfaceName", "") for nh in entry["nexthops"]
                if nh.get("active"))
    return None, []


def test_static_routes_follow_the_tunnel():
    extra = "  route 10.20.0.0/16\n  route 10.21.1.0/24\n" \
            "  route 2001:db8:20::/48\n"
    with Topo("rt") as topo:
        p = Pair(topo, extra1=extra)
        wait_established(p.r1)
        # installed through zebra, type NHRP ("N"), via the tunnel
        wait_for(lambda: {"10.20.0.0/16", "10.21.1.0/24"} <= set(
            routes(p.r1)), 10, "nhrp routes in zebra")
        wait_for(lambda: selected_via(p.r1, "10.20.0.0/16") ==
                 ("nhrp", ["vpn0"]), 5, "10.20.0.0/16 selected via vpn0")
        wait_for(lambda: "2001:db8:20::/48" in routes(p.r1, family="ipv6"),
                 10, "IPv6 nhrp route in zebra")
        assert "N>* 10.20.0.0/16" in p.r1.cmd("zebra", "show ip route")
        # and in the kernel
        k = p.r1.exec(["ip", "route", "show", "10.20.0.0/16"])
        assert "dev vpn0" in k, k
        j = conn_json(p.r1)
        got = {(r["prefix"], r["source"], r["installed"])
               for r in j["routes"]}
        assert ("10.20.0.0/16", "route", True) in got, j["routes"]
        assert "Route 10.20.0.0/16 (route): installed" in p.r1.cmd(
            "vpnd", "show vpn connection peer")

        # adding and removing a route while up
        p.r1.configure("vpnd", ["vpn", "connection peer",
                                "route 10.22.0.0/16"])
        wait_for(lambda: "10.22.0.0/16" in routes(p.r1), 10, "added route")
        p.r1.configure("vpnd", ["vpn", "connection peer",
                                "no route 10.22.0.0/16"])
        wait_for(lambda: "10.22.0.0/16" not in routes(p.r1), 10,
                 "removed route")

        # tunnel down: routes leave zebra; up again: they come back
        p.r1.configure("vpnd", ["vpn", "connection peer", "shutdown"])
        wait_for(lambda: not ({"10.20.0.0/16", "10.21.1.0/24"}
                              & set(routes(p.r1))), 5,
                 "routes withdrawn on shutdown")
        p.r1.configure("vpnd", ["vpn", "connection peer", "no shutdown"])
        wait_established(p.r1)
        wait_for(lambda: "10.20.0.0/16" in routes(p.r1), 10,
                 "routes back after no shutdown")

        # the peer going away (DELETE) withdraws them too
        p.r2.stop("vpnd")
        wait_for(lambda: "10.20.0.0/16" not in routes(p.r1), 5,
                 "routes withdrawn when the peer deletes the SA")


def test_redistribute_into_bgp():
    with Topo("rd") as topo:
        p = Pair(topo, extra1="  route 10.20.0.0/16\n")
        p.r1.start("bgpd", "router bgp 65001\n bgp router-id 1.1.1.1\n"
                   " address-family ipv4 unicast\n"
                   "  redistribute nhrp\n exit-address-family\nexit\n")
        wait_established(p.r1)
        wait_for(lambda: "10.20.0.0/16" in p.r1.cmd(
            "bgpd", "show ip bgp"), 15, "route redistributed into BGP")


def test_narrowed_selectors_install_routes():
    ts1 = "  traffic-selector local 169.254.21.0/30 remote 169.254.21.0/30\n" \
          "  traffic-selector local 10.1.0.0/16 remote 10.2.0.0/16\n"
    ts2 = "  traffic-selector local 169.254.21.0/30 remote 169.254.21.0/30\n" \
          "  traffic-selector local 10.2.0.0/16 remote 10.1.0.0/16\n"
    with Topo("ts") as topo:
        p = Pair(topo, extra1=ts1, extra2=ts2)
        wait_established(p.r1)
        wait_for(lambda: "10.2.0.0/16" in routes(p.r1), 10,
                 "remote selector installed on r1")
        wait_for(lambda: "10.1.0.0/16" in routes(p.r2), 10,
                 "remote selector installed on r2")
        j = conn_json(p.r1)
        assert {"prefix": "10.2.0.0/16", "source": "traffic-selector",
                "installed": True} in j["routes"]


def spoke_narrowing(topo, hub, local):
    """The hub (r1, responder-only, with `hub` in its connection) and a
    spoke (r2) that narrows its selectors to `local` (the hub's remote)."""
    spoke = (f"  traffic-selector local {local} remote 0.0.0.0/0\n"
             "  connection-mode initiator-only\n")
    return Pair(topo, extra1=hub + "  connection-mode responder-only\n",
                extra2=spoke)


def assert_taken(p, want):
    """The hub took the spoke's selector: `want`, its routes, installed."""
    wait_established(p.r1)
    wait_for(lambda: want <= set(routes(p.r1)), 10, f"routes {want}")
    rs = conn_json(p.r1)["routes"]
    assert {r["prefix"] for r in rs} == want, rs
    assert all(r["installed"] for r in rs), rs


def assert_refused(p, local):
    """The hub refused the spoke's selector `local`: its RIB unchanged, no
    Child SA, the refusal logged on both sides."""
    # the spoke's first attempt ends one way or the other
    wait_for(lambda: "traffic selectors unacceptable" in open(
        p.r2.log_path("vpnd")).read() or conn_json(p.r1)[
            "state"] == "established", 15,
             f"the spoke's attempt with {local}")
    time.sleep(1)
    # the hub's RIB: only vpnd's underlay pin, none of the peer's
    got = set(routes(p.r1))
    assert got <= {"192.0.2.2/32"}, \
        f"the spoke's selector {local} changed the hub's RIB: {got}"
    assert local not in p.r1.cmd("zebra", "show ip route")
    j = conn_json(p.r1)
    assert j["state"] != "established", j
    assert not any(s.get("childSas") for s in json.loads(
        p.r1.cmd("vpnd", "show vpn sa json"))["ikeSas"])
    assert "refused: outside the connection's" in open(
        p.r1.log_path("vpnd")).read()
    # the spoke is told why
    assert "the peer found our traffic selectors unacceptable" in \
        open(p.r2.log_path("vpnd")).read()


def test_peer_cannot_choose_routes():
    """A spoke that narrows its selectors to 0.0.0.0/1, or to another
    site's prefix, does not change the hub's RIB: the Child SA is refused
    (TS_UNACCEPTABLE) and logged. Inside the hub's 'route', it is taken."""
    hub = "  route 10.2.0.0/16\n"
    cases = [("0.0.0.0/1", False), ("10.3.0.0/16", False),
             ("10.2.1.0/24", True)]
    for local, accepted in cases:
        with Topo("tsl") as topo:
            p = spoke_narrowing(topo, hub, local)
            if accepted:
                assert_taken(p, {"10.2.0.0/16", "10.2.1.0/24"})
            else:
                assert_refused(p, local)


def test_accept_prefix():
    """'accept-prefix' widens what a peer may narrow to, and only that: a
    prefix inside it (and in no route or traffic selector of the hub)
    becomes a route; one outside every list is refused, RIB unchanged."""
    hub = "  route 10.2.0.0/16\n  accept-prefix 10.5.0.0/16\n"
    cases = [("10.5.1.0/24", True), ("10.6.0.0/16", False),
             ("10.0.0.0/8", False)]
    for local, accepted in cases:
        with Topo("tsa") as topo:
            p = spoke_narrowing(topo, hub, local)
            if accepted:
                assert_taken(p, {"10.2.0.0/16", "10.5.1.0/24"})
                r = [x for x in conn_json(p.r1)["routes"]
                     if x["prefix"] == local]
                assert r == [{"prefix": local, "source": "traffic-selector",
                              "installed": True}], r
                assert conn_json(p.r1)["acceptPrefixes"] == ["10.5.0.0/16"]
            else:
                assert_refused(p, local)


def test_underlay_tracking_and_pin():
    with Topo("ul") as topo:
        p = Pair(topo)
        wait_established(p.r1)
        # zebra resolves the remote-address over the veth; vpnd pins it
        wait_for(lambda: conn_json(p.r1)["underlay"]["pinned"], 10,
                 "underlay pinned")
        u = conn_json(p.r1)["underlay"]
        assert u["state"] == "reachable", u
        wait_for(lambda: selected_via(p.r1, "192.0.2.2/32")[0] == "nhrp",
                 5, "pin selected in zebra")
        # forced tunnelling: a default route into the tunnel does not
        # capture the tunnel's own packets
        p.r1.start("staticd", "ip route 0.0.0.0/0 vpn0\n")
        wait_for(lambda: selected_via(p.r1, "0.0.0.0/0")[1] == ["vpn0"],
                 10, "default route into the tunnel")
        p.r2.exec(["ip", "addr", "add", "203.0.113.9/32", "dev", "lo"])
        ok, out = ping(p.r1, "203.0.113.9", count=3)
        assert ok, out  # crosses the tunnel: r2 owns it
        assert conn_json(p.r1)["state"] == "established"
        p.r1.stop("staticd")

        # underlay cut: carrier drops at once, not after DPD
        veth = [ln.split(":")[1].strip().split("@")[0]
                for ln in p.r1.exec(["ip", "-o", "link"]).splitlines()
                if "veth" in ln or "@if" in ln][0]
        t0 = time.monotonic()
        p.r1.exec(["ip", "link", "set", veth, "down"])
        wait_for(lambda: not carrier(p.r1), 2, "carrier down on cut")
        took = time.monotonic() - t0
        assert took < 1.0, f"carrier went down after {took:.2f}s"
        assert conn_json(p.r1)["underlay"]["state"] == "unreachable"
        # restored: carrier back (the SA survived: no DPD timeout yet)
        p.r1.exec(["ip", "link", "set", veth, "up"])
        wait_for(lambda: carrier(p.r1), 10, "carrier back")
        ok, out = ping(p.r1, "169.254.21.2", count=3)
        assert ok, out


def test_pin_does_not_outlive_the_connection():
    with Topo("pd") as topo:
        p = Pair(topo)
        wait_established(p.r1)
        wait_for(lambda: "192.0.2.2/32" in routes(p.r1), 10, "pin")
        p.r1.configure("vpnd", ["vpn", "no connection peer"])
        wait_for(lambda: not routes(p.r1), 5, "no nhrp route left")


def test_shared_remote_address():
    """Two connections to one remote-address share its nexthop tracking
    and its pin: removing one leaves the other's underlay tracked and
    pinned (zebra tracks per client and address, not per connection)."""
    with Topo("sr") as topo:
        p = Pair(topo)
        wait_established(p.r1)
        wait_for(lambda: "192.0.2.2/32" in routes(p.r1), 10, "pin")
        p.r1.configure("vpnd", [
            "vpn", "connection peer2", "local-address 192.0.2.1",
            "remote-address 192.0.2.2", "pre-shared-key other-1234567",
            "interface vpn1", "connection-mode responder-only"])
        two = json.loads(p.r1.cmd("vpnd", "show vpn connection json"))[
            "connections"]
        wait_for(lambda: json.loads(p.r1.cmd(
            "vpnd", "show vpn connection peer2 json"))["connections"][
                "peer2"]["underlay"]["pinned"], 10, "peer2 shares the pin")
        assert set(two) == {"peer", "peer2"}, two
        p.r1.configure("vpnd", ["vpn", "no connection peer2"])
        time.sleep(1)  # what zebra would do with an unregistered address
        assert "192.0.2.2/32" in routes(p.r1), routes(p.r1)
        u = conn_json(p.r1)["underlay"]
        assert u["state"] == "reachable" and u["pinned"], u
        # still tracked: an underlay cut drops peer's carrier at once
        veth = [ln.split(":")[1].strip().split("@")[0]
                for ln in p.r1.exec(["ip", "-o", "link"]).splitlines()
                if "veth" in ln or "@if" in ln][0]
        p.r1.exec(["ip", "link", "set", veth, "down"])
        wait_for(lambda: not carrier(p.r1), 2, "carrier down on cut")
        assert conn_json(p.r1)["underlay"]["state"] == "unreachable"
        p.r1.exec(["ip", "link", "set", veth, "up"])
        wait_for(lambda: carrier(p.r1), 10, "carrier back")


def test_remote_changes_follow():
    """A new remote-address is tracked (and the old one forgotten)."""
    with Topo("rc") as topo:
        p = Pair(topo)
        wait_established(p.r1)
        wait_for(lambda: "192.0.2.2/32" in routes(p.r1), 10, "pin")
        p.r1.configure("vpnd", ["vpn", "connection peer",
                                "remote-address 192.0.2.77"])
        wait_for(lambda: "192.0.2.77/32" in routes(p.r1)
                 and "192.0.2.2/32" not in routes(p.r1), 10,
                 "pin follows remote-address")


if __name__ == "__main__":
    import pytest
    pytest.main([__file__, "-v"])
