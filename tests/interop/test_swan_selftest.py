"""strongSwan <-> strongSwan through tests/lib/swan.py: proves the interop
harness (namespaces, charon with kernel-libipsec, ESP-in-UDP, vici) before
vpnd takes one side.

    hA --- gwA ====== veth, IKE + ESP-in-UDP ====== gwB --- hB
 10.1.0.2  10.1.0.1  192.0.2.1             192.0.2.2  10.2.0.1  10.2.0.2

gwA and gwB run charon; their LAN addresses lie inside their local traffic
selectors (charon needs one to install its route through ipsec0). hA and hB
are plain hosts whose traffic the gateways forward through the tunnel.
"""
import subprocess

import pytest

from swan import Conn, Swan, SwanError
from topo import Topo, wait_for

PSK = "interop-selftest-psk-4f1c"
WRONG_PSK = "interop-selftest-wrong-9b2e"

UNDER_A, UNDER_B = "192.0.2.1", "192.0.2.2"
LAN_A, LAN_B = "10.1.0.0/24", "10.2.0.0/24"
GW_A, GW_B = "10.1.0.1", "10.2.0.1"
HOST_A, HOST_B = "10.1.0.2", "10.2.0.2"


class Net:
    def __init__(self, topo):
        self.topo = topo
        self.gwa = topo.add_router("gwa")
        self.gwb = topo.add_router("gwb")
        self.ha = topo.add_router("ha")
        self.hb = topo.add_router("hb")
        topo.add_link(self.gwa, self.gwb, f"{UNDER_A}/24", f"{UNDER_B}/24")
        topo.add_link(self.gwa, self.ha, f"{GW_A}/24", f"{HOST_A}/24")
        topo.add_link(self.gwb, self.hb, f"{GW_B}/24", f"{HOST_B}/24")
        for gw in (self.gwa, self.gwb):
            gw.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        self.ha.exec(["ip", "route", "add", "default", "via", GW_A])
        self.hb.exec(["ip", "route", "add", "default", "via", GW_B])
        self.swans = []

    def swan(self, router):
        sw = Swan(router)
        self.swans.append(sw)
        return sw

    def close(self):
        for sw in self.swans:
            sw.stop()


@pytest.fixture
def net():
    with Topo("swan") as topo:
        n = Net(topo)
        try:
            yield n
        finally:
            n.close()


def ping(router, dst, src=None, count=3):
    """Ping within the namespace; return (ok, output). Bounded in time."""
    cmd = ["ip", "netns", "exec", router.ns, "ping", "-n", "-c", str(count),
           "-i", "0.2", "-W", "2"]
    if src:
        cmd += ["-I", src]
    res = subprocess.run(cmd + [dst], capture_output=True, text=True,
                         timeout=count * 2 + 10)
    return res.returncode == 0, res.stdout + res.stderr


def pair(net, psk_a=PSK, psk_b=PSK, ike_a="default", esp_a="default",
         ike_b=None, esp_b=None):
    """charon on gwA (initiator side) and gwB (responder), started and
    loaded; nothing initiated."""
    a, b = net.swan(net.gwa), net.swan(net.gwb)
    a.add_conn(Conn("gw", local_addrs=UNDER_A, remote_addrs=UNDER_B,
                    local_id="gw-a.test", remote_id="gw-b.test", psk=psk_a,
                    local_ts=LAN_A, remote_ts=LAN_B,
                    ike_proposals=ike_a, esp_proposals=esp_a,
                    dpd_delay=30))
    b.add_conn(Conn("gw", local_addrs=UNDER_B, remote_addrs=UNDER_A,
                    local_id="gw-b.test", remote_id="gw-a.test", psk=psk_b,
                    local_ts=LAN_B, remote_ts=LAN_A,
                    ike_proposals=ike_b or ike_a,
                    esp_proposals=esp_b or esp_a, dpd_delay=30))
    a.start()
    b.start()
    return a, b


def child(sa):
    (c,) = sa["child-sas"].values()
    return c


def no_secret_in(*swans):
    for sw in swans:
        raw = open(sw.log_path, errors="replace").read()
        for secret in (PSK, WRONG_PSK):
            assert secret not in raw, f"{sw}: a PSK appears in charon's log"
            assert secret.encode().hex() not in raw, \
                f"{sw}: a PSK (hex) appears in charon's log"


# Each case: what A offers, what B accepts, what must be negotiated.
PROPOSALS = {
    "gcm-x25519": dict(
        ike_a="aes256gcm16-prfsha256-x25519", esp_a="aes256gcm16",
        ike={"encr-alg": "AES_GCM_16", "encr-keysize": "256",
             "prf-alg": "PRF_HMAC_SHA2_256", "dh-group": "CURVE_25519"},
        esp={"encr-alg": "AES_GCM_16", "encr-keysize": "256"}),
    "cbc-sha256-modp2048": dict(
        ike_a="aes128-sha256-modp2048", esp_a="aes128-sha256",
        ike={"encr-alg": "AES_CBC", "encr-keysize": "128",
             "integ-alg": "HMAC_SHA2_256_128",
             "prf-alg": "PRF_HMAC_SHA2_256", "dh-group": "MODP_2048"},
        esp={"encr-alg": "AES_CBC", "encr-keysize": "128",
             "integ-alg": "HMAC_SHA2_256_128"}),
    # A offers two of each, B accepts only A's second ones.
    "responder-picks-second": dict(
        ike_a="aes256gcm16-prfsha384-ecp384,aes128gcm16-prfsha256-ecp256",
        esp_a="aes256gcm16,aes128gcm16",
        ike_b="aes128gcm16-prfsha256-ecp256", esp_b="aes128gcm16",
        ike={"encr-alg": "AES_GCM_16", "encr-keysize": "128",
             "prf-alg": "PRF_HMAC_SHA2_256", "dh-group": "ECP_256"},
        esp={"encr-alg": "AES_GCM_16", "encr-keysize": "128"}),
}


@pytest.mark.parametrize("case", list(PROPOSALS))
def test_establish_and_ping(net, case):
    p = PROPOSALS[case]
    a, b = pair(net, ike_a=p["ike_a"], esp_a=p["esp_a"],
                ike_b=p.get("ike_b"), esp_b=p.get("esp_b"))
    ok, log = a.initiate("net", timeout=15)
    assert ok, log
    sa_a = a.wait_established(10)
    sa_b = b.wait_established(10)

    # host to host through both gateways, and gateway LAN to gateway LAN
    ok, out = ping(net.ha, HOST_B)
    assert ok, out + "\n" + a.log_tail() + "\n" + b.log_tail()
    ok, out = ping(net.gwb, GW_A, src=GW_B)
    assert ok, out

    sa_a, sa_b = a.established(child="net"), b.established(child="net")
    for side, sa in (("A", sa_a), ("B", sa_b)):
        for k, v in p["ike"].items():
            assert sa.get(k) == v, f"{side} IKE {k}: {sa.get(k)} != {v}"
        if "integ-alg" not in p["ike"]:
            assert "integ-alg" not in sa, f"{side}: AEAD with integ {sa}"
        assert sa["local-port"] == "4500" and sa["remote-port"] == "4500"
        c = child(sa)
        assert c["state"] == "INSTALLED" and c["mode"] == "TUNNEL"
        assert c["protocol"] == "ESP" and c["encap"] == "yes"
        for k, v in p["esp"].items():
            assert c.get(k) == v, f"{side} ESP {k}: {c.get(k)} != {v}"
        if "integ-alg" not in p["esp"]:
            assert "integ-alg" not in c, f"{side}: AEAD with integ {c}"
        # 3 + 3 echo requests went out, 3 + 3 replies came back, each side
        assert int(c["packets-out"]) >= 6 and int(c["packets-in"]) >= 6, c

    assert sa_a["initiator"] == "yes" and "initiator" not in sa_b
    assert sa_a["local-id"] == "gw-a.test" == sa_b["remote-id"]
    assert sa_a["initiator-spi"] == sa_b["initiator-spi"]
    assert sa_a["responder-spi"] == sa_b["responder-spi"]
    ca, cb = child(sa_a), child(sa_b)
    assert ca["spi-in"] == cb["spi-out"] and ca["spi-out"] == cb["spi-in"]
    assert ca["local-ts"] == [LAN_A] == cb["remote-ts"]
    assert ca["remote-ts"] == [LAN_B] == cb["local-ts"]

    # charon's route: the remote LAN through ipsec0 from our LAN address
    routes = net.gwa.exec(["ip", "route", "show", "table", "220"])
    assert f"{LAN_B} dev ipsec0" in routes and f"src {GW_A}" in routes, \
        routes
    no_secret_in(a, b)


def test_terminate(net):
    a, b = pair(net)
    a.initiate("net")
    b.wait_established(10)
    assert ping(net.ha, HOST_B)[0]
    a.terminate(ike="gw")
    assert a.list_sas() == []
    # B learns of it through the DELETE
    wait_for(lambda: b.list_sas() == [], 10, "B to drop the SAs")
    ok, out = ping(net.ha, HOST_B, count=1)
    assert not ok, "traffic still flows after terminate:\n" + out


def test_wrong_psk_fails_with_reason_in_log(net):
    a, b = pair(net, psk_a=PSK, psk_b=WRONG_PSK)
    ok, log = a.initiate("net", timeout=15, check=False)
    assert not ok, "IKE_SA established with mismatched PSKs:\n" + log
    # the responder checks the initiator's AUTH first, and says why
    line = b.wait_log("MAC mismatched", timeout=10)
    assert "shared key" in line, line
    a_line = a.wait_log("AUTHENTICATION_FAILED", timeout=10)
    assert "received AUTHENTICATION_FAILED notify" in a_line, a_line
    assert "AUTHENTICATION_FAILED" in log  # also in initiate()'s control log
    assert a.established() is None and b.established() is None
    # no route into ipsec0 (table 220 is not even created)
    routes = net.gwa.exec(["ip", "-4", "route", "show", "table", "all"])
    assert "ipsec0" not in routes, routes
    assert not ping(net.ha, HOST_B, count=1)[0]
    no_secret_in(a, b)


def test_redaction():
    """What the harness hands back never carries the PSK."""
    sw = Swan("vpndt-unused-ns", dir="/tmp")
    sw.add_conn(Conn("gw", local_addrs=UNDER_A, remote_addrs=UNDER_B,
                     psk=PSK, local_ts=LAN_A, remote_ts=LAN_B))
    text = sw.swanctl_conf()
    assert PSK not in text and "0x" + PSK.encode().hex() in text
    assert sw.redact(text).count("<psk>") == 1
    assert PSK not in repr(sw.conns[0])
    assert sw.redact(f"x {PSK} y") == "x <psk> y"
    with pytest.raises(SwanError):
        sw.initiate("net")  # not started: no socket
