"""vpnd <-> strongSwan 5.9 (charon, kernel-libipsec, encap=yes).

    r1: zebra + vpnd                         r2: charon
    vpn0 169.254.21.1/30 ==== IKE + ESP-in-UDP ==== lo 169.254.21.2/32
         192.0.2.1 ------------- veth ------------- 192.0.2.2

strongSwan's traffic selectors are 169.254.21.2/32 === 169.254.21.0/30
(it needs an address inside its local selector); vpnd offers any-to-any
and narrows to them.
"""
import json
import shutil
import subprocess
import time

import pytest

import iperf
from sas import SpiWatch, assert_no_tunnel, assert_swan_algs, \
    assert_swan_no_child, assert_vpnd_algs
from stall import measure
from swan import Conn, Swan
from topo import Topo, wait_for

PSK = "vpnd-swan-interop-7c21"


def vpnd_conf(ike=None, esp=None, psk=PSK, extra="", ike_life=None,
              esp_life=None):
    pol, use = "", ""
    if ike:
        pol += " ike-policy p-ike\n" + "".join(
            f"  proposal {p}\n" for p in ike.split(","))
        pol += f"  lifetime {ike_life}\n" if ike_life else ""
        pol += " exit\n"
        use += "  ike-policy p-ike\n"
    if esp:
        pol += " ipsec-policy p-esp\n" + "".join(
            f"  proposal {p}\n" for p in esp.split(","))
        pol += f"  lifetime {esp_life}\n" if esp_life else ""
        pol += " exit\n"
        use += "  ipsec-policy p-esp\n"
    return (f"vpn\n{pol} connection swan\n  local-address 192.0.2.1\n"
            f"  remote-address 192.0.2.2\n  pre-shared-key {psk}\n{use}"
            f"  interface vpn0\n"
            # strongSwan narrows our remote selector to its address: a
            # narrowed selector is taken only inside a route (or a
            # traffic selector) of ours
            f"  route 169.254.21.2/32\n{extra} exit\nexit\n")


class Lab:
    def __init__(self, topo):
        self.r1 = topo.add_router("r1")
        self.r2 = topo.add_router("r2")
        topo.add_link(self.r1, self.r2, "192.0.2.1/24", "192.0.2.2/24")
        self.r2.exec(["ip", "addr", "add", "169.254.21.2/32", "dev", "lo"])
        self.r1.start("zebra",
                      "interface vpn0\n ip address 169.254.21.1/30\nexit\n")
        self.swan = None

    def start_vpnd(self, conf):
        self.vpnd_conf = conf
        self.r1.start("vpnd", conf)

    def start_swan(self, **kw):
        args = dict(local_addrs="192.0.2.2", remote_addrs="192.0.2.1",
                    psk=PSK, local_ts="169.254.21.2/32",
                    remote_ts="169.254.21.0/30")
        args.update(kw)
        self.swan_conn = Conn("vpnd", **args)
        self.swan = Swan(self.r2)
        self.swan.add_conn(self.swan_conn)
        self.swan.start()
        return self.swan

    def close(self):
        if self.swan:
            self.swan.stop()

    def state(self):
        return json.loads(self.r1.cmd("vpnd", "show vpn connection swan "
                                      "json"))["connections"]["swan"]

    def wait_up(self, timeout=20):
        wait_for(lambda: self.state()["state"] == "established", timeout,
                 "vpnd connection established")

    def ping(self, count=3):
        res = subprocess.run(["ip", "netns", "exec", self.r1.ns, "ping",
                              "-c", str(count), "-i", "0.2", "-W", "2",
                              "169.254.21.2"],
                             capture_output=True, text=True, timeout=20)
        return res.returncode == 0, res.stdout

    def vpnd_log(self):
        return open(self.r1.log_path("vpnd")).read()


@pytest.fixture
def lab():
    with Topo("vsw") as topo:
        lab = Lab(topo)
        try:
            yield lab
        finally:
            lab.close()


# What strongSwan's "default" proposals and vpnd's "default" policies
# negotiate, whichever side initiates: strongSwan lists AES-CBC first and
# vpnd's default policies accept aes128-sha256 with x25519 (IKE) and
# aes128-sha256 (ESP).
DEFAULT_IKE = "aes128-sha256-x25519"
DEFAULT_ESP = "aes128-sha256"


def check_swan_sa(lab, ike_alg=DEFAULT_IKE, esp_alg=DEFAULT_ESP):
    """Both sides negotiated exactly proposals ike_alg and esp_alg:
    strongSwan's IKE and Child SAs (vici list-sas: encryption and key
    size, integrity, PRF, DH group) and vpnd's (show vpn sa json); and
    they are the same SAs (vpnd's Child SA SPIs are strongSwan's)."""
    wait_for(lambda: lab.swan.established(child="net"), 10,
             "strongSwan's Child SA installed")
    sas = assert_swan_algs(lab.swan.list_sas(), ike_alg, esp_alg)
    assert_vpnd_algs(lab.r1, "swan", ike_alg, esp_alg)
    swan_spis = {(c["spi-in"], c["spi-out"]) for s in sas
                 for c in s["child-sas"].values()
                 if c.get("state") == "INSTALLED"}
    vpnd = json.loads(lab.r1.cmd("vpnd", "show vpn sa json"))["ikeSas"]
    vpnd_spis = {(c["spiOut"], c["spiIn"]) for s in vpnd
                 if s["state"] == "established"
                 for c in s.get("childSas", [])}
    assert swan_spis & vpnd_spis, \
        f"no Child SA in common: strongSwan (in, out) {swan_spis}, " \
        f"vpnd (out, in) {vpnd_spis}"
    return sas


def test_vpnd_initiator(lab):
    lab.start_swan()
    lab.start_vpnd(vpnd_conf(extra="  connection-mode initiator-only\n"))
    lab.wait_up()
    ok, out = lab.ping(5)
    assert ok, out
    check_swan_sa(lab)
    assert "initiator" in lab.r1.cmd("vpnd", "show vpn sa")


def test_vpnd_responder(lab):
    lab.start_vpnd(vpnd_conf(extra="  connection-mode responder-only\n"))
    lab.start_swan(start_action="start")
    lab.wait_up()
    ok, out = lab.ping(5)
    assert ok, out
    check_swan_sa(lab)
    assert "responder" in lab.r1.cmd("vpnd", "show vpn sa")


# Eight combinations that together use every algorithm and DH group.
MATRIX = [
    ("aes128-sha1-modp1024", "aes128-sha1"),
    ("aes256-sha256-modp2048", "aes256-sha256"),
    ("aes192-sha384-ecp384", "aes192-sha384"),
    ("aes256-sha512-ecp256", "aes256-sha512"),
    ("aes128gcm16-prfsha256-x25519", "aes128gcm16"),
    ("aes256gcm16-prfsha384-ecp384", "aes256gcm16-modp2048"),
    ("chacha20poly1305-prfsha512-x25519", "chacha20poly1305"),
    ("aes256-sha1-modp2048", "aes256gcm16"),
]


@pytest.mark.parametrize("ike,esp", MATRIX, ids=[f"{i}/{e}" for i, e in MATRIX])
def test_proposals(lab, ike, esp):
    lab.start_swan(ike_proposals=ike, esp_proposals=esp)
    lab.start_vpnd(vpnd_conf(ike=ike, esp=esp,
                             extra="  connection-mode initiator-only\n"))
    lab.wait_up()
    ok, out = lab.ping()
    assert ok, out
    check_swan_sa(lab, ike, esp)


def test_wrong_psk_vpnd_initiates(lab):
    lab.start_swan()
    lab.start_vpnd(vpnd_conf(psk="the-wrong-key",
                             extra="  connection-mode initiator-only\n"))
    wait_for(lambda: "authentication failed" in lab.vpnd_log(), 15,
             "vpnd to log the failure")
    wait_for(lambda: "MAC mismatched" in lab.swan.log(), 10,
             "strongSwan to log the failure")
    assert_no_tunnel(lab.r1, "swan", "authentication failed")
    assert_swan_no_child(lab.swan)


def test_wrong_psk_swan_initiates(lab):
    lab.start_vpnd(vpnd_conf(psk="the-wrong-key",
                             extra="  connection-mode responder-only\n"))
    lab.start_swan(start_action="start")
    wait_for(lambda: "authentication failed" in lab.vpnd_log(), 15,
             "vpnd to log the failure")
    assert_no_tunnel(lab.r1, "swan", "authentication failed")
    assert_swan_no_child(lab.swan)
    assert "the-wrong-key" not in lab.vpnd_log()
    assert PSK not in lab.vpnd_log()


def test_no_common_proposal(lab):
    lab.start_swan(ike_proposals="aes128-sha1-modp2048")
    lab.start_vpnd(vpnd_conf(ike="aes256gcm16-prfsha384-ecp384",
                             extra="  connection-mode initiator-only\n"))
    wait_for(lambda: "no proposal chosen" in lab.vpnd_log(), 15,
             "vpnd to log no proposal chosen")
    assert "aes256gcm16-prfsha384-ecp384" in lab.vpnd_log()
    assert_no_tunnel(lab.r1, "swan", "no proposal chosen")
    assert_swan_no_child(lab.swan)


@pytest.mark.skipif(not shutil.which("iperf3"), reason="iperf3 missing")
def test_tcp_and_rekeys(lab, report):
    """A 10 s TCP transfer while Child SAs (strongSwan every 4 s, vpnd
    every 5 s) and the IKE SA (strongSwan at 7 s, vpnd at 9 s) rekey: at
    least 2 Child SA rekeys and 1 IKE SA rekey (new SPIs in vpnd, the
    tunnel never without an established SA), no stall (never two 0.5 s
    intervals in a row below 10% of the median) and at most 3x the retransmissions of a
    baseline transfer without rekeys (+25 segments). A transfer during which
    the machine stalled is measured again (lib/stall.py)."""
    ike, esp = "aes256gcm16-prfsha256-x25519", "aes256gcm16"
    vpnd_short = vpnd_conf(ike=ike, esp=esp, ike_life=9, esp_life=5,
                           extra="  connection-mode initiator-only\n")
    # baseline: the same path and algorithms, no rekey
    lab.start_swan(ike_proposals=ike, esp_proposals=esp)
    lab.start_vpnd(vpnd_conf(ike=ike, esp=esp,
                             extra="  connection-mode initiator-only\n"))
    lab.wait_up()

    def baseline():
        w = SpiWatch([lab.r1]).start()
        base = iperf.transfer(lab.r1, lab.r2, "169.254.21.2", 5,
                              rate=iperf.RATE)
        w.stop()
        assert not w.new_children(lab.r1, "swan") and \
            not w.new_ike(lab.r1, "swan"), "rekey during the baseline"
        return base
    base = measure("baseline transfer", baseline,
                   lambda b: iperf.assert_no_stall(b, what="baseline transfer"),
                   report=report)

    def rekeying():
        lab.swan.stop()
        assert lab.r1.stop("vpnd")
        lab.start_swan(ike_proposals=ike, esp_proposals=esp, rekey_time=4,
                       life_time=8, ike_rekey_time=7, ike_life_time=14,
                       rand_time=0)
        lab.start_vpnd(vpnd_short)
        lab.wait_up()
        w = SpiWatch([lab.r1]).start()
        res = iperf.transfer(lab.r1, lab.r2, "169.254.21.2", 10,
                             rate=iperf.RATE)
        w.stop()
        print(f"baseline {base}\nrekeying {res}")
        # the new Child SAs are strongSwan's too (its outbound SPI is
        # vpnd's inbound one): the current one at least
        check_swan_sa(lab, ike, esp)
        return res, w

    def timing(m):
        # how many rekeys fit in the transfer is timing too: a stalled
        # machine fires the lifetimes' timers late
        res, w = m
        nc, ni = w.assert_rekeys(lab.r1, "swan", child=2, ike=1)
        print(f"{len(nc)} new Child SAs, {len(ni)} new IKE SAs")
        events = len(nc) + len(ni)
        iperf.assert_no_stall(res, what="transfer while rekeying")
        # Rekeys cost strongSwan's side (kernel-libipsec) retransmissions:
        # measured 420-1200 while rekeying against baselines of 110-570
        # over 5 s, also after vpnd stopped sending on a new Child SA
        # before the peer has it
        # (test_tunnel.py::test_rekey_responder_holds_new_sa_back). About
        # one window per rekey event is allowed.
        iperf.assert_retransmits(res, base, what="transfer while rekeying",
                                 slack=iperf.RETRANS_SLACK + 150 * events)
    measure("transfer while rekeying", rekeying, timing, report=report)


def test_dpd_and_peer_restart(lab):
    lab.start_swan()
    lab.start_vpnd(vpnd_conf(extra="  dpd interval 1 timeout 3\n"))
    lab.wait_up()
    lab.swan.kill()
    t0 = time.monotonic()
    wait_for(lambda: lab.state()["state"] != "established", 10,
             "DPD to notice the dead peer")
    assert time.monotonic() - t0 < 8
    assert "NO-CARRIER" in lab.r1.exec(["ip", "link", "show", "vpn0"])
    assert_no_tunnel(lab.r1, "swan", "dead peer detected")
    lab.start_swan()
    lab.wait_up(timeout=45)
    ok, out = lab.ping()
    assert ok, out
