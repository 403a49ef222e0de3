"""The routing scenarios of configs/, vpnd to vpnd, each as a lab of
network namespaces: every router runs Debian's zebra and bgpd (bfdd,
staticd where its directory has their files) plus vpnd, loaded from the
files in configs/<scenario>/<router>/ as they are; hosts behind the sites
are namespaces on a veth (configs/README.md has the addressing).

Every scenario checks zebra's and the kernel's routes and real traffic
between the hosts, not only daemon state. On failure it prints the routes
expected and seen, and what every router shows (tunnels, BGP, routes).
Failover times are measured with a continuous ping (-i 0.01), in real
time from its timestamps, asserted against the bounds README states
(FAILOVER_MS; no loss when traffic moves back) and printed in the run's
log, as is each tunnel's share of the ECMP test traffic.
"""
import functools
import json
import os
import signal
import time

import pytest

from scenario import (ContinuousPing, Lab, bgp_established, bgp_peer,
                      ping, udp_load, wait_bgp, wait_route)
from topo import Topo, wait_for

# Each scenario must finish within this (seconds); the SIGALRM guard fails
# it so that the lab is still torn down.
SCENARIO_TIMEOUT = int(os.environ.get("SCENARIO_TIMEOUT", "150"))


class ScenarioTimeout(Exception):
    pass


@pytest.fixture
def labs(request, report):
    """make(scenario) -> Lab; every lab is torn down after the test, and a
    failed test prints what each router shows."""
    made = []

    def make(scenario, tag, **kw):
        topo = Topo(tag)
        made.append([topo, None])
        lab = Lab(topo, scenario, **kw)
        made[-1][1] = lab
        return lab

    def expired(signum, frame):
        raise ScenarioTimeout(f"{request.node.nodeid} ran longer than "
                              f"{SCENARIO_TIMEOUT}s (SCENARIO_TIMEOUT)")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(SCENARIO_TIMEOUT)
    make.made = made
    make.report = report

    def close(lab):
        """Tear a lab down now (a test that starts over in a fresh one)."""
        for pair in made:
            if pair[1] is lab:
                pair[0].close()
                made.remove(pair)
                return
    make.close = close
    try:
        yield make
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        for topo, _ in made:
            topo.close()


def dump_on_failure(fn):
    """Print every router's tunnels, BGP and routes when the test fails."""
    @functools.wraps(fn)
    def wrapper(*args, labs, **kw):
        try:
            return fn(*args, labs=labs, **kw)
        except BaseException:
            for _, lab in labs.made:
                if lab is not None:
                    print(f"===== {lab.scenario}: state at failure")
                    print(lab.snapshot())
            raise
    return wrapper


def must_ping(lab, host, dst, count=3):
    ok, out = lab.ping(host, dst, count)
    assert ok, f"ping {host} -> {dst} failed:\n{out}"


# ECMP check of active-active: ECMP_FLOWS UDP flows, each sending
# ECMP_RATE datagrams a second for ECMP_SECONDS; each tunnel must carry at
# least ECMP_MIN_SHARE of them (about half each when flows spread by their
# ports; with 64 flows hashed at random, fewer than 20% on one tunnel has
# a chance under one in a million).
ECMP_FLOWS = 64
ECMP_RATE = 20
ECMP_SECONDS = 2.0
ECMP_MIN_SHARE = 0.20


def tunnel_tx(ifs, during):
    """({router: {ifname: tx packets}}, seconds) on each router's tunnel
    interfaces while `during()` runs."""
    before = {r: {i: r.if_counters(i)[1] for i in names}
              for r, names in ifs.items()}
    t0 = time.monotonic()
    during()
    dt = time.monotonic() - t0
    return {r: {i: r.if_counters(i)[1] - before[r][i] for i in names}
            for r, names in ifs.items()}, dt


def ping_tx_split(lab, router, host, dst, ifs, count=100):
    """Send a short fast ping (`count` packets, 10 ms apart) and return the
    tx packet delta on each of `ifs` of `router`: which path carries that
    flow. The other paths carry their own BFD and BGP packets meanwhile
    (about 10 per second with BFD)."""
    r = lab.r[router]
    before = {i: r.if_counters(i)[1] for i in ifs}
    ping(lab.h[host], dst, count=count, interval=0.01)
    return {i: r.if_counters(i)[1] - before[i] for i in ifs}


# What README's "Deployment scenarios" states for a silent cut, with BFD
# at 3 x 100 ms: a continuous ping loses under this. BFD notices 200-300
# ms after the cut, then bgpd and zebra move the route: 0.31-0.39 s
# measured (three runs of each scenario), so about 0.2 s of margin for a
# loaded CI machine.
FAILOVER_MS = 600

# A failover is measured again, in a fresh lab (at most this many more
# times), when BFD on a path that was not cut went down during the cut as
# well. On these shared VMs the hypervisor now and then takes both CPUs
# away for longer than BFD's 300 ms (a probe process outside the labs
# sees the same gap, with steal time in /proc/stat): every BFD session in
# the lab then expires at once, and what the ping measures is the
# surviving session's reset, not the failover. A vpnd that disturbed the
# surviving tunnel on a cut would void every attempt and fail.
STALL_RETRIES = 2


def bfd_downs(r, peer):
    """How many times BFD with `peer` went down on router r."""
    return json.loads(r.cmd("bfdd", f"show bfd peer {peer} counters json"))[
        "session-down"]


def cut_under_ping(labs, what, scenario, tag, attempt):
    """Run attempt(lab) -> (result, kept, downs_before), each time in a
    fresh lab of `scenario`, until BFD on none of the kept (router, peer)
    paths went down after downs_before was read; returns that attempt's
    result. A voided attempt is reported and its lab torn down."""
    lab = None
    for n in range(1 + STALL_RETRIES):
        if lab is not None:
            labs.close(lab)
        lab = labs(scenario, f"{tag}{n or ''}")
        result, kept, before = attempt(lab)
        flapped = [f"{r.name}/{peer}" for r, peer in kept
                   if bfd_downs(r, peer) > before[(r, peer)]]
        if not flapped:
            return result
        labs.report(f"{what}: attempt {n + 1} void: BFD on a path that was "
                    f"not cut went down too ({', '.join(flapped)}); "
                    f"{result[-1]}")
    pytest.fail(f"{what}: in all {1 + STALL_RETRIES} attempts BFD on a path "
                f"that was not cut went down as well (last: "
                f"{', '.join(flapped)})")


# -- a) two sites -------------------------------------------------------------

@dump_on_failure
def test_two_site(labs):
    """eBGP over one tunnel on 169.254.21.0/30: each site learns the
    other's prefix over the tunnel, and the hosts reach each other."""
    lab = labs("two-site", "s2")
    a, b = lab.r["site-a"], lab.r["site-b"]
    lab.wait_established("site-a", "site-b")
    lab.wait_established("site-b", "site-a")
    # zebra shows the tunnel interfaces with their state and address
    out = a.cmd("zebra", "show interface vpn-b")
    assert "vpn-b is up, line protocol is up" in out, out
    assert "169.254.21.1/30" in out, out
    wait_bgp(a, "169.254.21.2")
    wait_bgp(b, "169.254.21.1")
    wait_route(a, "10.2.0.0/24", "bgp via vpn-b")
    wait_route(b, "10.1.0.0/24", "bgp via vpn-a")
    wait_route(a, "10.2.0.0/24", "bgp vpn-b", where="kernel")
    wait_route(b, "10.1.0.0/24", "bgp vpn-a", where="kernel")
    # only the site prefixes cross
    assert bgp_peer(a, "169.254.21.2")["addressFamilyInfo"][
        "ipv4Unicast"]["acceptedPrefixCounter"] == 1
    must_ping(lab, "h-a", "10.2.0.10")
    must_ping(lab, "h-b", "10.1.0.10")


# -- b) hub and three sites ----------------------------------------------------

@dump_on_failure
def test_hub_three_sites(labs):
    """Three sites on one vpnd at the hub; site 1 reaches site 3 through
    the hub, with routes learned only through BGP."""
    lab = labs("hub-three-sites", "hub3")
    hub = lab.r["hub"]
    for n in (1, 2, 3):
        lab.wait_established("hub", f"site-{n}")
    conns = json.loads(hub.cmd("vpnd", "show vpn connection json"))[
        "connections"]
    assert sorted(conns) == ["site-1", "site-2", "site-3"], conns
    tun = {1: "169.254.21.2", 2: "169.254.21.6", 3: "169.254.21.10"}
    for n in (1, 2, 3):
        wait_bgp(hub, tun[n])
        wait_route(hub, f"10.{n}.0.0/24", f"bgp via vpn-s{n}")
    for n in (1, 2, 3):
        s = lab.r[f"site-{n}"]
        for m in (1, 2, 3):
            if m != n:
                wait_route(s, f"10.{m}.0.0/24", "bgp via vpn-hub")
                wait_route(s, f"10.{m}.0.0/24", "bgp vpn-hub",
                           where="kernel")
        # the sites' prefixes come from BGP alone (vpnd's own routes are
        # only its underlay pin: a host route to the hub's address)
        routes = json.loads(s.cmd("zebra", "show ip route json"))
        other = {p: e["protocol"] for p, es in routes.items() for e in es
                 if e["protocol"] not in ("bgp", "connected")}
        pin = {1: "192.0.2.1/32", 2: "198.51.100.1/32",
               3: "203.0.113.1/32"}[n]
        assert other in ({}, {pin: "nhrp"}), f"site-{n}: {other}"
    # the transit path: AS path site-1 <- hub <- site-3
    path = json.loads(lab.r["site-1"].cmd(
        "bgpd", "show ip bgp 10.3.0.0/24 json"))["paths"][0]["aspath"]
    assert path["string"] == "65000 65003", path
    must_ping(lab, "h-1", "10.3.0.10")
    must_ping(lab, "h-3", "10.1.0.10")
    must_ping(lab, "h-2", "10.1.0.10")
    # the hub forwarded it: the traceroute-like proof is the TTL
    ok, out = lab.ping("h-1", "10.3.0.10", count=1)
    assert "ttl=61" in out, out  # h-3 (64) <- site-3 <- hub <- site-1


# -- c) active-active ----------------------------------------------------------

@dump_on_failure
def test_active_active(labs):
    """Two tunnels between the same two sites: ECMP over both while both
    are up (each tunnel carries at least ECMP_MIN_SHARE of many flows); a
    silent cut of one tunnel's underlay costs a continuous ping less than
    FAILOVER_MS (BFD), and BGP on the other tunnel keeps its routes."""
    def attempt(lab):
        a, b = lab.r["site-a"], lab.r["site-b"]
        for r, p in ((a, "site-b"), (b, "site-a")):
            lab.wait_established(r.name, f"{p}-1")
            lab.wait_established(r.name, f"{p}-2")
        for r, peers in ((a, ("169.254.21.2", "169.254.22.2")),
                         (b, ("169.254.21.1", "169.254.22.1"))):
            for p in peers:
                wait_bgp(r, p)
        wait_route(a, "10.2.0.0/24", "bgp via vpn-b1,vpn-b2")
        wait_route(b, "10.1.0.0/24", "bgp via vpn-a1,vpn-a2")
        wait_route(a, "10.2.0.0/24", "bgp vpn-b1,vpn-b2", where="kernel")
        wait_route(b, "10.1.0.0/24", "bgp vpn-a1,vpn-a2", where="kernel")
        wait_for(lambda: "Up" in a.cmd("bfdd", "show bfd peer 169.254.21.2")
                 and "Up" in a.cmd("bfdd", "show bfd peer 169.254.22.2"), 20,
                 "BFD up on both tunnels")

        # ECMP: many UDP flows from h-a to h-b (echoed back), spread over both
        # tunnels each way. BFD (10 packets a second) and BGP keep every
        # tunnel busy on their own: their counts over the same interval
        # without test traffic are subtracted first.
        ifs = {a: ("vpn-b1", "vpn-b2"), b: ("vpn-a1", "vpn-a2")}
        idle, idle_s = tunnel_tx(ifs, lambda: time.sleep(ECMP_SECONDS))
        load = {}
        tx, load_s = tunnel_tx(ifs, lambda: load.update(udp_load(
            lab.h["h-a"], lab.h["h-b"], "10.2.0.10", flows=ECMP_FLOWS,
            seconds=ECMP_SECONDS, rate=ECMP_RATE)))
        # the baseline over the loaded interval's length
        base = {r: {i: round(n * load_s / idle_s) for i, n in c.items()}
                for r, c in idle.items()}
        assert load["flows_echoed"] == ECMP_FLOWS, (
            f"only {load['flows_echoed']}/{ECMP_FLOWS} UDP flows echoed: "
            f"{load}")
        for r, what, total in ((a, "datagrams to h-b", load["sent"]),
                               (b, "echoes to h-a", load["received"])):
            share = {i: (tx[r][i] - base[r][i]) / total for i in ifs[r]}
            labs.report(
                f"active-active: ECMP, {ECMP_FLOWS} UDP flows, {r.name} tx "
                f"per tunnel {tx[r]} for {total} {what} (BFD/BGP alone: "
                f"{base[r]}): shares "
                + ", ".join(f"{i} {v:.0%}" for i, v in share.items()))
            assert all(v >= ECMP_MIN_SHARE for v in share.values()), (
                f"{r.name}: each tunnel should carry at least "
                f"{ECMP_MIN_SHARE:.0%} of the {total} {what} of {ECMP_FLOWS} "
                f"flows (tx minus BFD/BGP's own): "
                + ", ".join(f"{i} {v:.1%}" for i, v in share.items())
                + f" (tx {tx[r]}, without test traffic {base[r]})")

        # which tunnel carries the ping flow from h-a? cut that one
        split = ping_tx_split(lab, "site-a", "h-a", "10.2.0.10",
                              ("vpn-b1", "vpn-b2"))
        cut_if = max(split, key=split.get)
        underlay = {"vpn-b1": "eth0", "vpn-b2": "eth1"}[cut_if]
        keep = {"vpn-b1": ("vpn-b2", "169.254.22.2", "169.254.22.1"),
                "vpn-b2": ("vpn-b1", "169.254.21.2", "169.254.21.1")}[cut_if]
        kept = ((a, keep[1]), (b, keep[2]))
        est = {r: bgp_peer(r, p)["connectionsEstablished"] for r, p in kept}
        before = {(r, p): bfd_downs(r, p) for r, p in kept}

        with ContinuousPing(lab.h["h-a"], "10.2.0.10", 0.01, 400) as p:
            time.sleep(1.5)
            b.block(underlay)  # silent: neither end's link state changes
        lost_ms, gap_ms = p.outage()
        return ((lab, cut_if, keep, est, lost_ms,
                 f"{cut_if}'s underlay cut: continuous ping lost {lost_ms} ms "
                 f"(longest gap {gap_ms} ms)"), kept, before)

    lab, cut_if, keep, est, lost_ms, line = cut_under_ping(
        labs, "active-active", "active-active", "aa", attempt)
    a, b = lab.r["site-a"], lab.r["site-b"]
    keep_if, keep_peer_a, keep_peer_b = keep
    est_a, est_b = est[a], est[b]
    labs.report(f"active-active: {line}")
    assert lost_ms < FAILOVER_MS, (
        f"{line}: README states under {FAILOVER_MS} ms")
    # the surviving tunnel's BGP sessions never reset, and carry the routes
    assert bgp_established(a, keep_peer_a)
    assert bgp_established(b, keep_peer_b)
    for r, peer, est in ((a, keep_peer_a, est_a), (b, keep_peer_b, est_b)):
        n = bgp_peer(r, peer)
        assert (n["connectionsEstablished"], n["connectionsDropped"]) == (
            est, est - 1), f"{r.name}: session with {peer} was reset: {n}"
    wait_route(a, "10.2.0.0/24", f"bgp via {keep_if}", timeout=5)
    wait_route(a, "10.2.0.0/24", f"bgp {keep_if}", timeout=5,
               where="kernel")
    must_ping(lab, "h-a", "10.2.0.10")
    must_ping(lab, "h-b", "10.1.0.10")


# -- d) private link preferred, tunnel as backup -------------------------------

def private_or_vpn(lab):
    """Which path the site -> hub host traffic takes: per-interface tx
    deltas on the site for a short fast ping."""
    return ping_tx_split(lab, "site", "h-site", "10.0.0.10",
                         ("eth1", "vpn-hub"))


@dump_on_failure
def test_private_link_backup(labs):
    """A private link and a tunnel, BGP on both: the private link carries
    the traffic while it is up; when it is cut, traffic moves to the tunnel
    losing less than FAILOVER_MS of a continuous ping; when it comes back,
    traffic moves back without losing a ping."""
    def attempt(lab):
        hub, site = lab.r["hub"], lab.r["site"]
        lab.wait_established("site", "hub")
        for r, peers in ((site, ("172.16.0.1", "169.254.21.1")),
                         (hub, ("172.16.0.2", "169.254.21.2"))):
            for p in peers:
                wait_bgp(r, p)
        # both paths known, the private one selected
        wait_route(site, "10.0.0.0/24", "bgp via eth1")
        wait_route(hub, "10.1.0.0/24", "bgp via eth1")
        bgp = json.loads(site.cmd("bgpd", "show ip bgp 10.0.0.0/24 json"))
        assert len(bgp["paths"]) == 2, bgp
        must_ping(lab, "h-site", "10.0.0.10")
        split = private_or_vpn(lab)
        assert split["eth1"] >= 100 and split["vpn-hub"] < 50, split
        wait_for(lambda: "Up" in site.cmd("bfdd", "show bfd peer 172.16.0.1")
                 and "Up" in site.cmd("bfdd", "show bfd peer 169.254.21.1"),
                 20, "BFD up on both paths")
        kept = ((site, "169.254.21.1"), (hub, "169.254.21.2"))
        before = {(r, p): bfd_downs(r, p) for r, p in kept}

        # cut the private link (silently: carrier stays up on both ends)
        with ContinuousPing(lab.h["h-site"], "10.0.0.10", 0.01, 400) as p:
            time.sleep(1.0)
            site.block("eth1")
        lost_ms, gap_ms = p.outage()
        return ((lab, lost_ms, gap_ms,
                 f"private link cut: continuous ping lost {lost_ms} ms "
                 f"(longest gap {gap_ms} ms)"), kept, before)

    lab, lost_ms, gap_ms, _ = cut_under_ping(
        labs, "private-link-backup", "private-link-backup", "plb", attempt)
    hub, site = lab.r["hub"], lab.r["site"]
    labs.report(f"private-link-backup: private link cut: continuous ping "
                f"lost {lost_ms} ms (longest gap {gap_ms} ms)")
    assert lost_ms < FAILOVER_MS, (
        f"moving to the tunnel lost {lost_ms} ms of pings (longest gap "
        f"{gap_ms} ms): README states under {FAILOVER_MS} ms")
    wait_route(site, "10.0.0.0/24", "bgp via vpn-hub", timeout=5)
    wait_route(hub, "10.1.0.0/24", "bgp via vpn-site", timeout=5)
    split = private_or_vpn(lab)
    assert split["vpn-hub"] >= 100, split

    # the private link comes back: traffic moves back to it, with a ping
    # running all through the repair and the switch-back
    with ContinuousPing(lab.h["h-site"], "10.0.0.10", 0.01, 6000) as p:
        time.sleep(0.5)
        site.unblock("eth1")
        t0 = time.monotonic()
        wait_route(site, "10.0.0.0/24", "bgp via eth1", timeout=40)
        wait_route(hub, "10.1.0.0/24", "bgp via eth1", timeout=10)
        back_s = time.monotonic() - t0
        time.sleep(1.0)  # and on the private link for a while
        p.stop()
    lost_ms, gap_ms = p.outage()
    labs.report(f"private-link-backup: private link back in use "
                f"{back_s:.1f} s after the repair (BFD + BGP); ping through "
                f"the repair and the switch-back ({p.judged()} sent) lost "
                f"{lost_ms} ms (longest gap {gap_ms} ms)")
    assert lost_ms == 0, (
        f"moving back to the private link lost {lost_ms} ms of pings "
        f"(longest gap {gap_ms} ms, {p.judged()} sent through the repair): "
        f"README states that no ping is lost")
    split = private_or_vpn(lab)
    assert split["eth1"] >= 100 and split["vpn-hub"] < 50, split


# -- e) forced tunneling -------------------------------------------------------

@dump_on_failure
def test_forced_tunnel(labs):
    """The hub advertises a default route over the tunnel: a site host's
    traffic to an internet address leaves through the hub (whose NAT is
    the only way back), while vpnd's own IKE/ESP packets to the hub stay
    on the underlay: the tunnel survives its own default route."""
    lab = labs("forced-tunnel", "ft")
    site = lab.r["site"]
    lab.wait_established("site", "hub")
    wait_bgp(site, "169.254.21.1")
    wait_route(site, "0.0.0.0/0", "bgp via vpn-hub")
    wait_route(site, "0.0.0.0/0", "bgp vpn-hub", where="kernel")
    wait_route(site, "10.0.0.0/24", "bgp via vpn-hub")
    # the provider's default is still there, floating behind BGP's
    statics = [e for e in site_routes(site, "0.0.0.0/0")
               if e["protocol"] == "static"]
    assert statics and not statics[0].get("selected"), statics
    # vpnd's underlay pin keeps its IKE/ESP to the hub on eth0
    wait_route(site, "203.0.113.1/32", "nhrp via eth0", timeout=5)
    sa0 = ike_spis(site)
    esp0 = site.if_counters("eth0")[1]
    # an internet address, outside all site prefixes
    ok, out = lab.ping("h-site", "198.18.0.10", count=5)
    assert ok, ("h-site -> 198.18.0.10 (internet, through the hub) failed"
                f"{underlay_diag(site)}:\n{out}")
    out = site.exec(["ip", "route", "get", "198.18.0.10", "from",
                     "10.1.0.10", "iif", "lan0"])
    assert "dev vpn-hub" in out, out
    # ... carried as ESP on the underlay
    assert site.if_counters("eth0")[1] - esp0 >= 5
    must_ping(lab, "h-site", "10.0.0.10")
    # the tunnel lives on under its own default route: same IKE SA, no
    # DPD failure, for longer than the DPD timeout (6 s)
    time.sleep(8)
    st = lab.vpn("site", "hub")
    assert st["state"] == "established", (st, underlay_diag(site))
    assert ike_spis(site) == sa0, (sa0, ike_spis(site), underlay_diag(site))
    ok, out = lab.ping("h-site", "198.18.0.10", count=5)
    assert ok, f"internet through the hub, 8 s later{underlay_diag(site)}"


def underlay_diag(site):
    """How the site reaches the hub's underlay address, and the Child SA
    counters (a routing loop of vpnd's own ESP into vpn-hub shows as
    packets out by the hundred thousand, none in)."""
    route = site.exec(["ip", "route", "get", "203.0.113.1", "from",
                       "198.51.100.2"]).strip()
    sas = json.loads(site.cmd("vpnd", "show vpn sa json"))["ikeSas"]
    kids = [(c["packetsIn"], c["packetsOut"]) for s in sas
            for c in s["childSas"]]
    return (f" (site's route to the hub's underlay address: {route}; "
            f"Child SAs (packets in, out): {kids})")


def site_routes(r, prefix):
    return json.loads(r.cmd("zebra", f"show ip route {prefix} json")).get(
        prefix, [])


def ike_spis(r):
    sas = json.loads(r.cmd("vpnd", "show vpn sa json"))["ikeSas"]
    return sorted(s["spiInitiator"] for s in sas
                  if s["state"] == "established")


# -- f) static routes, no BGP --------------------------------------------------

@dump_on_failure
def test_static_routes(labs):
    """`route` prefixes of a connection are installed through zebra (type
    NHRP) while its tunnel is up, and removed when it goes down."""
    lab = labs("static-routes", "st")
    a, b = lab.r["site-a"], lab.r["site-b"]
    # vpnd took the `route` statements of configs/static-routes/
    for r, prefix in ((a, "10.2.0.0/24"), (b, "10.1.0.0/24")):
        out = r.cmd("vpnd", "show running-config")
        assert f"route {prefix}" in (l.strip() for l in out.splitlines()), (
            f"{r.name}: vpnd's running-config lacks 'route {prefix}' of "
            f"configs/static-routes/{r.name}/vpnd.conf:\n{out}")
    lab.wait_established("site-a", "site-b")
    wait_route(a, "10.2.0.0/24", "nhrp via vpn-b")
    wait_route(b, "10.1.0.0/24", "nhrp via vpn-a")
    wait_route(a, "10.2.0.0/24", "nhrp vpn-b", where="kernel")
    nhrp = a.cmd("zebra", "show ip route nhrp")
    assert "N>* 10.2.0.0/24" in nhrp, nhrp
    must_ping(lab, "h-a", "10.2.0.10")
    must_ping(lab, "h-b", "10.1.0.10")

    # down: site B shuts the connection (DELETE to site A)
    b.configure("vpnd", ["vpn", "connection site-a", "shutdown"])
    wait_route(a, "10.2.0.0/24", "none", timeout=5)
    wait_route(b, "10.1.0.0/24", "none", timeout=5)
    wait_route(a, "10.2.0.0/24", "none", timeout=5, where="kernel")
    # zebra shows the interface down (vpnd withdraws the route first)
    wait_for(lambda: "line protocol is down" in a.cmd(
        "zebra", "show interface vpn-b"), 5, "vpn-b down in zebra")
    ok, _ = lab.ping("h-a", "10.2.0.10", count=1)
    assert not ok, "site B still reachable with the tunnel down"

    # up again
    b.configure("vpnd", ["vpn", "connection site-a", "no shutdown"])
    lab.wait_established("site-a", "site-b", timeout=40)
    wait_route(a, "10.2.0.0/24", "nhrp via vpn-b")
    wait_route(b, "10.1.0.0/24", "nhrp via vpn-a")
    must_ping(lab, "h-a", "10.2.0.10")

    # the underlay dies silently: DPD (timeout 6 s) takes the route away
    a.block("eth0")
    wait_route(a, "10.2.0.0/24", "none", timeout=15)
    wait_route(b, "10.1.0.0/24", "none", timeout=15)
    a.unblock("eth0")

    # 'no route' removes it at once; 'route' adds it back
    lab.wait_established("site-a", "site-b", timeout=45)
    wait_route(a, "10.2.0.0/24", "nhrp via vpn-b")
    a.configure("vpnd", ["vpn", "connection site-b",
                         "no route 10.2.0.0/24"])
    wait_route(a, "10.2.0.0/24", "none", timeout=5)
    a.configure("vpnd", ["vpn", "connection site-b", "route 10.2.0.0/24"])
    wait_route(a, "10.2.0.0/24", "nhrp via vpn-b", timeout=5)
