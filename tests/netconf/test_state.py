"""NETCONF <get>: operational state of a live tunnel (vpnd to vpnd) matches
'show vpn connection json' and 'show vpn sa json'."""
import json
import os
import subprocess

import pytest

from lxml import etree

import nclib
from nclib import NS
from topo import Topo, wait_for

PSK = "netconf-state-key-1"
V = {"v": NS}

pytestmark = pytest.mark.skipif(
    not os.path.exists(nclib.MODULE),
    reason=f"the NETCONF module is not built ({nclib.MODULE})")


def vpnd_conf(local, remote, extra=""):
    return (f"vpn\n connection peer\n  local-address {local}\n"
            f"  remote-address {remote}\n  pre-shared-key {PSK}\n"
            f"  interface vpn0\n{extra} exit\nexit\n")


def zebra_conf(addr):
    return f"interface vpn0\n ip address {addr}\nexit\n"


def show(r, what):
    return json.loads(r.cmd("vpnd", f"show vpn {what} json"))


def txt(node, path):
    found = node.xpath(path, namespaces=V)
    return found[0].text if found else None


# vpn/ike/statistics: every field of struct ike_stats, YANG leaf and JSON
# key ('show vpn ike statistics json')
IKE_STATS = [
    ("ike-sas", "ikeSas"), ("half-open", "halfOpen"),
    ("datagrams-received", "datagramsReceived"),
    ("drop-too-large", "dropTooLarge"), ("drop-malformed", "dropMalformed"),
    ("drop-unknown-spi", "dropUnknownSpi"),
    ("drop-unexpected", "dropUnexpected"),
    ("drop-integrity", "dropIntegrity"),
    ("drop-no-connection", "dropNoConnection"),
    ("cookies-sent", "cookiesSent"), ("cookies-invalid", "cookiesInvalid"),
    ("drop-blocked", "dropBlocked"),
    ("drop-half-open-limit", "dropHalfOpenLimit"),
    ("drop-peer-sa-limit", "dropPeerSaLimit"),
    ("half-open-expired", "halfOpenExpired"),
    ("no-proposal-chosen", "noProposalChosen"),
    ("invalid-ke-sent", "invalidKeSent"),
    ("retransmits-answered", "retransmitsAnswered"),
    ("log-suppressed", "logSuppressed"),
]


def snapshot(r, m):
    """JSON, NETCONF state, JSON again: counters that moved in between
    make the caller retry."""
    before = show(r, "connection peer")["connections"]["peer"]
    ike_before = show(r, "ike statistics")
    reply = m.get(filter=("subtree", f'<vpn xmlns="{NS}"/>'))
    after = show(r, "connection peer")["connections"]["peer"]
    ike_after = show(r, "ike statistics")
    sas = show(r, "sa")["ikeSas"]
    root = etree.fromstring(reply.data_xml.encode())
    return ({**before, "ike": ike_before}, {**after, "ike": ike_after},
            root, sas)


def check_ike_statistics(root, j):
    """vpn/ike/statistics has every leaf, each equal to its JSON key."""
    st = root.xpath("/nc:data/v:vpn/v:ike/v:statistics",
                    namespaces={**V, "nc": nclib.NC})
    assert len(st) == 1, etree.tostring(root).decode()
    leaves = {etree.QName(x).localname: x.text for x in st[0]}
    assert sorted(leaves) == sorted(y for y, _ in IKE_STATS), leaves
    for leaf, key in IKE_STATS:
        assert int(leaves[leaf]) == j[key], \
            f"{key}: json {j[key]}, NETCONF {leaves[leaf]}"


def stable(a, b):
    strip = ("rekeySeconds", "ageSeconds", "lifetimeSecondsLeft")

    def clean(o):
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items() if k not in strip}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o
    return clean(a) == clean(b)


def b(v):
    return "true" if v else "false"


def test_state_matches_show_json():
    with Topo("ncst") as topo:
        r1 = topo.add_router("r1")
        r2 = topo.add_router("r2")
        topo.add_link(r1, r2, "192.0.2.1/24", "192.0.2.2/24")
        r1.start("zebra", zebra_conf("169.254.21.1/30"))
        r2.start("zebra", zebra_conf("169.254.21.2/30"))
        keys = nclib.Keys(r1.dir)
        r2.start("vpnd", vpnd_conf("192.0.2.2", "192.0.2.1"))
        nclib.start_vpnd(r1, keys, vpnd_conf(
            "192.0.2.1", "192.0.2.2", "  route 10.77.0.0/16\n"))
        wait_for(lambda: show(r1, "connection peer")["connections"]["peer"]
                 ["state"] == "established", 20, "tunnel up")
        wait_for(lambda: "169.254.21.1/30" in r1.exec(
            ["ip", "-o", "addr", "show", "vpn0"]), 10, "address on vpn0")
        subprocess.run(["ip", "netns", "exec", r1.ns, "ping", "-c", "5",
                        "-i", "0.2", "-W", "2", "169.254.21.2"],
                       capture_output=True, timeout=20)
        wait_for(lambda: any(r["installed"] for r in show(
            r1, "connection peer")["connections"]["peer"]["routes"]), 10,
            "route installed")

        with nclib.connect(r1, keys) as m:
            for _ in range(5):
                j, j2, root, sas = snapshot(r1, m)
                if stable(j, j2):
                    break
            assert stable(j, j2), "counters kept moving"

        conns = root.xpath("/nc:data/v:vpn/v:connection",
                           namespaces={**V, "nc": nclib.NC})
        assert [txt(c, "v:name") for c in conns] == ["peer"]
        st = conns[0].xpath("v:state", namespaces=V)[0]
        print(etree.tostring(st, pretty_print=True).decode())
        print(json.dumps(j, indent=1))

        def eq(path, want, what):
            got = txt(st, path)
            assert got == want, f"{what}: json {want!r}, NETCONF {got!r}"

        eq("v:oper-state", j["state"], "state")
        eq("v:carrier", b(j["carrier"]), "carrier")
        eq("v:dpd-timeout", str(j["dpdTimeout"]), "dpdTimeout")
        assert txt(st, "v:last-error") == (j["lastError"] or None)

        ike, sa = st.xpath("v:ike-sa", namespaces=V)[0], j["ikeSa"]
        for path, key in (("v:sa-state", "state"),
                          ("v:local-address", "localAddress"),
                          ("v:remote-address", "remoteAddress"),
                          ("v:encryption-algorithm", "encryption"),
                          ("v:prf", "prf"), ("v:dh-group", "dhGroup")):
            got = txt(ike, path)
            assert got == sa[key], f"ikeSa.{key}: {sa[key]!r} vs {got!r}"
        assert txt(ike, "v:integrity-algorithm") == sa.get("integrity")
        assert txt(ike, "v:initiator") == b(sa["initiator"])
        assert int(txt(ike, "v:initiator-ikesa-spi")) == int(
            sa["spiInitiator"], 16)
        assert int(txt(ike, "v:responder-ikesa-spi")) == int(
            sa["spiResponder"], 16)
        assert int(txt(ike, "v:encapsulation-type/v:sport")) == sa[
            "localPort"]
        assert int(txt(ike, "v:encapsulation-type/v:dport")) == sa[
            "remotePort"]
        assert txt(ike, "v:encapsulation-type/v:espencap") == "espinudp"
        assert abs(int(txt(ike, "v:current-rekey-time"))
                   - sa["rekeySeconds"]) <= 2
        assert int(txt(ike, "v:drop-no-sa")) == sa["dropNoSa"]
        assert int(txt(ike, "v:drop-unknown-spi")) == sa[
            "dropUnknownSpiGlobal"]

        children = {int(txt(c, "v:inbound-spi")): c
                    for c in ike.xpath("v:child-sa", namespaces=V)}
        assert sorted(children) == sorted(int(c["spiIn"], 16)
                                          for c in sa["childSas"])
        assert sa["childSas"], "no Child SA"
        for c in sa["childSas"]:
            n = children[int(c["spiIn"], 16)]
            assert int(txt(n, "v:outbound-spi")) == int(c["spiOut"], 16)
            assert txt(n, "v:active") == b(c["active"])
            assert txt(n, "v:encryption-algorithm") == c["encryption"]
            assert txt(n, "v:integrity-algorithm") == c.get("integrity")
            assert txt(n, "v:ext-seq-num") == b(c["esn"])
            for path, key in (("in-packets", "packetsIn"),
                              ("in-bytes", "bytesIn"),
                              ("out-packets", "packetsOut"),
                              ("out-bytes", "bytesOut"),
                              ("drop-replay", "dropReplay"),
                              ("drop-integrity", "dropIntegrity"),
                              ("drop-malformed", "dropMalformed"),
                              ("drop-other", "dropOther")):
                got = int(txt(n, f"v:statistics/v:{path}"))
                assert got == c[key], f"{key}: json {c[key]}, NETCONF {got}"
            assert int(txt(n, "v:sa-lifetime-current/v:packets")) == \
                c["packetsIn"] + c["packetsOut"]
            assert int(txt(n, "v:sa-lifetime-current/v:bytes")) == \
                c["bytesIn"] + c["bytesOut"]
            assert abs(int(txt(n, "v:sa-lifetime-current/v:time"))
                       - c["ageSeconds"]) <= 2
        assert sum(c["packetsOut"] for c in sa["childSas"]) >= 5

        und = st.xpath("v:underlay", namespaces=V)[0]
        assert txt(und, "v:state") == j["underlay"]["state"]
        assert txt(und, "v:pinned") == b(j["underlay"]["pinned"])
        assert [n.text for n in und.xpath("v:nexthop", namespaces=V)] == \
            j["underlay"]["nexthops"]

        routes = {txt(x, "v:prefix"): x
                  for x in st.xpath("v:route", namespaces=V)}
        assert sorted(routes) == sorted(x["prefix"] for x in j["routes"])
        for x in j["routes"]:
            assert txt(routes[x["prefix"]], "v:source") == x["source"]
            assert txt(routes[x["prefix"]], "v:installed") == b(
                x["installed"])

        num = root.xpath("//v:number-ike-sas", namespaces=V)[0]
        assert int(txt(num, "v:total")) == len(sas)

        # the engine's statistics, as 'show vpn ike statistics json' has
        # them (what increments them is the engine's tests' business)
        check_ike_statistics(root, j["ike"])


def test_ike_statistics_and_defences():
    """vpn/ike over NETCONF: an edit reaches the engine (read back by 'show
    vpn ike statistics json'), <get> returns every statistics leaf, and
    deleting 'vpn' gives the engine its defaults again."""
    with Topo("ncik") as topo:
        r = topo.add_router("r1")
        r.start("zebra", "")
        keys = nclib.Keys(r.dir)
        nclib.start_vpnd(r, keys, "vpn\n ike cookie-threshold 7\nexit\n")
        dflt = {"cookieThreshold": 30, "cookieThresholdPerAddress": 3,
                "blockThreshold": 5, "halfOpenLimit": 1000,
                "peerSaLimit": 8, "cookieSecretLifetime": 120,
                "maxPacket": 10000}
        assert show(r, "ike statistics")["dosProtection"] == {
            **dflt, "cookieThreshold": 7}
        with nclib.connect(r, keys) as m:
            m.edit_config(target="running", config=(
                f'<config xmlns="{nclib.NC}"><vpn xmlns="{NS}"><ike>'
                "<half-open-limit>50</half-open-limit>"
                "<max-packet>1500</max-packet>"
                "</ike></vpn></config>"))
            assert show(r, "ike statistics")["dosProtection"] == {
                **dflt, "cookieThreshold": 7, "halfOpenLimit": 50,
                "maxPacket": 1500}
            assert " ike half-open-limit 50\n" in r.cmd(
                "vpnd", "show running-config")
            cfg = etree.fromstring(m.get_config(
                "running", filter=("subtree", f'<vpn xmlns="{NS}"/>'))
                .data_xml.encode())
            assert txt(cfg, "//v:ike/v:cookie-threshold") == "7"
            # no traffic: nothing moves between the two reads
            reply = m.get(filter=("subtree", f'<vpn xmlns="{NS}"/>'))
            check_ike_statistics(etree.fromstring(reply.data_xml.encode()),
                                 show(r, "ike statistics"))
            m.edit_config(target="running", config=(
                f'<config xmlns="{nclib.NC}" xmlns:nc="{nclib.NC}">'
                f'<vpn xmlns="{NS}" nc:operation="delete"/></config>'))
            assert show(r, "ike statistics")["dosProtection"] == dflt
