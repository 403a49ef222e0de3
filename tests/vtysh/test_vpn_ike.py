"""vpn/ike through vtysh: the IKE engine's defences against unauthenticated
load ('ike ...' under 'vpn'), what the engine applies and counts ('show vpn
ike statistics [json]'), and a connection's accept-prefix list.

The engine's own behaviour under load (cookies, drops, counter increments)
is tested with the engine; here: that each setting reaches it, and that
every counter is reported.
"""
import json
import re

from topo import wait_for
from vtysh_helpers import Vtysh

# leaf (CLI word and YANG name), JSON key, default, lowest, highest
DOS = [
    ("cookie-threshold", "cookieThreshold", 30, 0, 100000),
    ("cookie-threshold-per-address", "cookieThresholdPerAddress", 3, 0,
     10000),
    ("block-threshold", "blockThreshold", 5, 0, 10000),
    ("half-open-limit", "halfOpenLimit", 1000, 0, 1000000),
    ("peer-sa-limit", "peerSaLimit", 8, 0, 10000),
    ("cookie-secret-lifetime", "cookieSecretLifetime", 120, 10, 86400),
    ("max-packet", "maxPacket", 10000, 1280, 65535),
]
DEFAULTS = {key: dflt for _, key, dflt, _, _ in DOS}

# every field of struct ike_stats (vpnd/ike/ike.h), by its JSON key
STATS = [
    "ikeSas", "halfOpen", "datagramsReceived", "dropTooLarge",
    "dropMalformed", "dropUnknownSpi", "dropUnexpected", "dropIntegrity",
    "dropNoConnection", "cookiesSent", "cookiesInvalid", "dropBlocked",
    "dropHalfOpenLimit", "dropPeerSaLimit", "halfOpenExpired",
    "noProposalChosen", "invalidKeSent", "retransmitsAnswered",
    "logSuppressed",
]


def ike_json(vt):
    return json.loads(vt.out("show vpn ike statistics json"))


def in_force(vt):
    """The defences the engine applies (read back from it)."""
    return ike_json(vt)["dosProtection"]


def vpn_lines(vt):
    """The running-config's 'ike ...' lines under 'vpn'."""
    return [l for l in vt.running_config().splitlines()
            if l.startswith(" ike ")]


def test_statistics_json_has_every_counter(router):
    vt = Vtysh(router)
    j = ike_json(vt)
    assert sorted(j) == sorted(STATS + ["dosProtection"]), sorted(j)
    for k in STATS:
        assert type(j[k]) is int and j[k] >= 0, (k, j[k])
    # without any configuration the engine runs with ike.h's defaults
    assert j["dosProtection"] == DEFAULTS, j["dosProtection"]
    text = vt.out("show vpn ike statistics")
    assert text.startswith("IKE statistics since vpnd started:"), text
    assert "DoS protection in force:" in text, text
    for leaf, _, dflt, _, _ in DOS:
        assert re.search(rf"^  {leaf} +{dflt}$", text, re.M), (leaf, text)
    # one text line per counter, plus the headings and the defences
    assert len(text.strip().splitlines()) == len(STATS) + len(DOS) + 2, text


def test_each_leaf_set_shown_applied_and_reset(router):
    vt = Vtysh(router)
    vt.configure("vpn")
    for leaf, key, dflt, lo, hi in DOS:
        for value in (lo, hi):
            vt.configure("vpn", f"ike {leaf} {value}")
            assert f" ike {leaf} {value}" in vpn_lines(vt), vt.running_config()
            assert in_force(vt) == {**DEFAULTS, key: value}, (leaf, value)
        # 'no' takes it back to the default, and out of the running-config
        vt.configure("vpn", f"no ike {leaf}")
        assert vpn_lines(vt) == [], vt.running_config()
        assert in_force(vt) == DEFAULTS, leaf
        # the default written out is not shown either (FRR's convention)
        vt.configure("vpn", f"ike {leaf} {dflt}")
        assert vpn_lines(vt) == [], vt.running_config()
        # 'no' with the value works too
        vt.configure("vpn", f"ike {leaf} {lo}", f"no ike {leaf} {lo}")
        assert in_force(vt) == DEFAULTS, leaf


def test_bad_values_refused(router):
    vt = Vtysh(router)
    vt.configure("vpn", "ike cookie-threshold 7")
    for leaf, key, dflt, lo, hi in DOS:
        bad = [hi + 1, "ten", "-1"] + ([lo - 1] if lo > 0 else [])
        for value in bad:
            rc, out, err = vt.configure("vpn", f"ike {leaf} {value}",
                                        check=False)
            assert rc != 0, (leaf, value, out, err)
    # nothing changed
    assert vpn_lines(vt) == [" ike cookie-threshold 7"], vt.running_config()
    assert in_force(vt) == {**DEFAULTS, "cookieThreshold": 7}


def test_no_vpn_restores_the_defaults(router):
    vt = Vtysh(router)
    vt.configure("vpn", *(f"ike {leaf} {lo}" for leaf, _, _, lo, _ in DOS))
    assert in_force(vt) == {key: lo for _, key, _, lo, _ in DOS}
    assert len(vpn_lines(vt)) == len(DOS), vt.running_config()
    vt.configure("no vpn")
    assert in_force(vt) == DEFAULTS
    # and a new 'vpn' starts from them too
    vt.configure("vpn")
    assert vpn_lines(vt) == [] and in_force(vt) == DEFAULTS


def test_accept_prefix(router):
    vt = Vtysh(router)
    vt.configure("vpn", "connection c1", "accept-prefix 10.5.1.7/16",
                 "accept-prefix 2001:db8:5::/48")
    run = vt.running_config()
    # stored with the host bits cleared, as YANG prints prefixes
    assert ("  accept-prefix 10.5.0.0/16\n"
            "  accept-prefix 2001:db8:5::/48\n") in run, run
    conn = json.loads(vt.out("show vpn connection c1 json"))[
        "connections"]["c1"]
    assert conn["acceptPrefixes"] == ["10.5.0.0/16", "2001:db8:5::/48"]
    assert "Accept prefixes: 10.5.0.0/16, 2001:db8:5::/48" in vt.out(
        "show vpn connection c1")
    vt.configure("vpn", "connection c1", "no accept-prefix 10.5.0.0/16")
    assert "accept-prefix 10.5.0.0/16" not in vt.running_config()
    rc, out, err = vt.configure("vpn", "connection c1",
                                "accept-prefix 10.5.0.0/33", check=False)
    assert rc != 0, (out, err)


def test_at_most_64_prefixes_to_check(router):
    """traffic-selector, route and accept-prefix entries together fill the
    engine's 64-entry list of what a peer may narrow to: the 65th is
    refused with the model's message, whichever kind it is."""
    vt = Vtysh(router)
    lines = ["vpn", "connection c1", "interface vpn1",
             "traffic-selector local 10.0.0.0/8 remote 172.16.0.0/16"]
    lines += [f"route 192.168.{i}.0/24" for i in range(40)]
    lines += [f"accept-prefix 172.17.{i}.0/24" for i in range(23)]
    vt.configure(*lines)
    for extra in ("accept-prefix 172.18.0.0/16", "route 172.19.0.0/16",
                  "traffic-selector local 10.0.0.0/8 remote 172.20.0.0/16"):
        rc, out, err = vt.configure("vpn", "connection c1", extra,
                                    check=False)
        assert rc != 0, (extra, out, err)
        assert "at most 64 traffic-selector, route and accept-prefix" in \
            out + err, (out, err)
    run = vt.running_config()
    assert run.count("  accept-prefix ") == 23, run
    assert "172.18.0.0" not in run and "172.19.0.0" not in run
    # one fewer makes room again
    vt.configure("vpn", "connection c1", "no route 192.168.0.0/24",
                 "accept-prefix 172.18.0.0/16")
    assert "  accept-prefix 172.18.0.0/16\n" in vt.running_config()


def send_udp(router, dst, port, size):
    """One datagram of `size` bytes (not IKE) from inside the router."""
    router.exec(["/usr/bin/python3", "-c",
                 "import socket; s = socket.socket(socket.AF_INET, "
                 "socket.SOCK_DGRAM); "
                 f"s.sendto(b'x' * {size}, ('{dst}', {port}))"])


def test_max_packet_is_enforced(router):
    """A setting reaches the engine's checks, not only its getter: with
    'ike max-packet 1500' a 2000-byte datagram on port 500 is dropped as
    too large before it is read; at 2500 it is read (and is malformed)."""
    vt = Vtysh(router)
    vt.configure("vpn", "ike max-packet 1500")
    before = ike_json(vt)
    send_udp(router, "192.0.2.1", 500, 2000)
    wait_for(lambda: ike_json(vt)["datagramsReceived"] ==
             before["datagramsReceived"] + 1, 5, "the datagram")
    after = ike_json(vt)
    assert after["dropTooLarge"] == before["dropTooLarge"] + 1, after
    assert after["dropMalformed"] == before["dropMalformed"], after

    vt.configure("vpn", "ike max-packet 2500")
    send_udp(router, "192.0.2.1", 500, 2000)
    wait_for(lambda: ike_json(vt)["datagramsReceived"] ==
             after["datagramsReceived"] + 1, 5, "the second datagram")
    last = ike_json(vt)
    assert last["dropTooLarge"] == after["dropTooLarge"], last
    assert last["dropMalformed"] == after["dropMalformed"] + 1, last
