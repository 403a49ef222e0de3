"""FRR's vtysh built with vpnd (frr-plugin/vtysh): one shell for zebra, bgpd
and vpnd, with vpnd's configuration in the integrated frr.conf.
"""
import json
import os
import re
import subprocess

import pytest

from vtysh_helpers import Term, Vtysh

CONN = [
    "vpn",
    "ike cookie-threshold 10",
    "ike max-packet 4000",
    "ike-policy az",
    "proposal aes256-sha256-modp2048",
    "lifetime 14400",
    "exit",
    "ipsec-policy az-esp",
    "proposal aes256gcm16",
    "lifetime 27000 kilobytes 1024000",
    "exit",
    "connection site1",
    "local-address 192.0.2.1",
    "remote-address 192.0.2.2",
    "pre-shared-key vtysh-test-key-1",
    "ike-policy az",
    "ipsec-policy az-esp",
    "interface vpn7",
    "traffic-selector local 10.1.0.0/16 remote 10.2.0.0/16",
    "accept-prefix 10.9.0.0/16",
    "dpd interval 5 timeout 20",
    "connection-mode responder-only",
    "exit",
    "exit",
]

VPN_SECTION = """vpn
 ike cookie-threshold 10
 ike max-packet 4000
 ike-policy az
  proposal aes256-sha256-modp2048
  lifetime 14400
 exit
 ipsec-policy az-esp
  proposal aes256gcm16
  lifetime 27000 kilobytes 1024000
 exit
 connection site1
  local-address 192.0.2.1
  remote-address 192.0.2.2
  pre-shared-key vtysh-test-key-1
  ike-policy az
  ipsec-policy az-esp
  interface vpn7
  traffic-selector local 10.1.0.0/16 remote 10.2.0.0/16
  accept-prefix 10.9.0.0/16
  dpd interval 5 timeout 20
  connection-mode responder-only
 exit
exit
!
"""

OTHERS = [
    "interface eth0",
    "description underlay",
    "exit",
    "router bgp 65001",
    "bgp router-id 192.0.2.1",
    "neighbor 169.254.21.2 remote-as 65002",
    "exit",
]


def sections(text):
    """Top-level section headers of a running config, in order."""
    return [l for l in text.splitlines()
            if l and not l.startswith((" ", "!")) and l != "exit"]


def configure_all(vt):
    vt.configure(*OTHERS)
    vt.configure(*CONN)


def test_commands_are_debians_plus_vpnds(vtysh_bin):
    """The built vtysh has every command Debian's has, plus vpnd's."""
    def names(path):
        out = subprocess.run(["strings", "-n", "6", path], check=True,
                             capture_output=True, text=True).stdout
        return {l for l in out.splitlines()
                if re.fullmatch(r"[a-z0-9_]+_cmd(_vtysh)?", l)}

    ours, debian = names(vtysh_bin), names("/usr/bin/vtysh")
    tree = os.path.join(os.path.dirname(os.path.realpath(vtysh_bin)), "frr")
    snmp = "#define SNMP_AGENTX" in open(os.path.join(tree, "config.h")).read()
    missing = debian - ours
    if not snmp:  # built without libsnmp-dev: no agentx commands
        missing -= {"agentx_enable_cmd_vtysh", "no_agentx_cmd_vtysh"}
    added = {n for n in ours - debian if "vpn" not in n}
    assert not missing, f"commands of Debian's vtysh missing: {missing}"
    assert not added, f"commands added that are not vpnd's: {added}"
    assert len(ours - debian) >= 30, sorted(ours - debian)


def test_show_reaches_every_daemon(router):
    vt = Vtysh(router)
    assert vt.out("show daemons").split() == ["zebra", "bgpd", "vpnd"]
    assert "No connections configured" in vt.out("show vpn connection")
    assert "eth0" in vt.out("show interface brief")
    js = json.loads(vt.out("show vpn policy json"))
    assert "default" in js["ikePolicies"], js


def test_configure_show_write_and_boot(router):
    """Configure through vtysh, write the integrated frr.conf, restart every
    daemon with an empty configuration and restore it with vtysh -b."""
    vt = Vtysh(router)
    configure_all(vt)

    conn = json.loads(vt.out("show vpn connection site1 json"))[
        "connections"]["site1"]
    want = {"remoteAddress": "192.0.2.2", "interface": "vpn7",
            "ikePolicy": "az", "ipsecPolicy": "az-esp",
            "connectionMode": "responder-only", "dpdInterval": 5,
            "dpdTimeout": 20, "preSharedKeySet": True}
    assert {k: conn[k] for k in want} == want
    text = vt.out("show vpn connection")
    assert "Connection site1" in text and "interface vpn7" in text, text
    # the summary reaches vpnd through vtysh (its command graph has it)
    summ = json.loads(vt.out("show vpn connection summary json"))
    assert [c["name"] for c in summ["connections"]] == ["site1"], summ
    assert summ["connections"][0]["interface"] == "vpn7"
    assert vt.out("show vpn connection summary").splitlines()[-1] == \
        "1 connection, 0 established"

    run1 = vt.running_config()
    assert VPN_SECTION in run1, f"vpn section not whole in:\n{run1}"
    # vpnd's section sits among the daemons' sections, in FRR's node order
    assert sections(run1)[-3:] == ["router bgp 65001", "vpn", "end"], \
        sections(run1)
    assert run1.index("interface eth0") < run1.index("router bgp 65001")
    # each daemon's own view agrees
    assert ("vpn\n ike cookie-threshold 10\n ike max-packet 4000\n"
            " ike-policy az\n") in router.cmd("vpnd", "show running-config")

    vt.out("write memory")
    with open(vt.conf) as f:
        saved = f.read()
    assert VPN_SECTION in saved, saved
    assert "router bgp 65001" in saved and "interface eth0" in saved

    for d in ("vpnd", "bgpd", "zebra"):
        assert router.stop(d), f"{d} did not stop"
    for d in ("zebra", "bgpd", "vpnd"):
        router.start(d)
    assert "No connections configured" in vt.out("show vpn connection")

    rc, out, err = vt.run(args=("-b",), check=False)
    assert rc == 0, f"vtysh -b exited {rc}: {out}{err}"
    run2 = vt.running_config()
    assert run2 == run1, f"before restart:\n{run1}\nafter vtysh -b:\n{run2}"
    conn2 = json.loads(vt.out("show vpn connection site1 json"))[
        "connections"]["site1"]
    assert {k: conn2[k] for k in want} == want

    # writing again gives the same file
    vt.out("write memory")
    with open(vt.conf) as f:
        assert f.read() == saved


def test_refusals_keep_the_node(router):
    """A value vpnd refuses fails the command in vtysh too; vtysh stays put."""
    vt = Vtysh(router)
    rc, out, err = vt.configure("vpn", "connection bad'name", check=False)
    assert rc != 0, (out, err)
    assert "bad'name" not in vt.running_config()
    rc, out, err = vt.configure("vpn", "connection c2",
                                "local-address 300.1.1.1", check=False)
    assert rc != 0, (out, err)
    rc, out, err = vt.configure("vpn", "connection c2",
                                "dpd interval 0", check=False)
    assert rc != 0, (out, err)
    run = vt.running_config()
    assert " connection c2\n exit\n" in run, run
    vt.configure("vpn", "no connection c2", "exit", "no vpn")
    assert "vpn" not in vt.running_config().split("\n")


def test_help_completion_and_prompts(router):
    """?, tab completion and the node prompts on a terminal."""
    vt = Vtysh(router)
    t = Term(vt.argv())
    try:
        t.expect(r"# $")
        t.send("configure terminal\r")
        t.expect(r"\(config\)# $")
        t.send("vpn\r")
        t.expect(r"\(config-vpn\)# $")
        t.send("?")
        help_ = t.expect(r"\(config-vpn\)# $")
        for word in ("connection", "ike-policy", "ipsec-policy", "exit"):
            assert word in help_, help_
        t.send("conn\t")
        t.expect("connection ")
        t.send("tc1\r")
        t.expect(r"\(config-vpn-connection\)# $")
        t.send("?")
        help_ = t.expect(r"\(config-vpn-connection\)# $")
        assert re.search(r"remote-address\s+Underlay address of the peer",
                         help_), help_
        assert re.search(r"connection-mode\s+Who may start", help_), help_
        t.send("remote-a\t")
        t.expect("remote-address ")
        t.send("192.0.2.9\r")
        t.expect(r"\(config-vpn-connection\)# $")
        t.send("connection-mode ?")
        help_ = t.expect(r"responder-only[\s\S]*connection-mode $")
        for word in ("default", "initiator-only", "responder-only"):
            assert word in help_, help_
        t.send("init\t")
        t.expect("initiator-only ")
        t.send("\r")
        t.expect(r"\(config-vpn-connection\)# $")
        t.send("exit\r")
        t.expect(r"\(config-vpn\)# $")
        t.send("ike-policy p9\r")
        t.expect(r"\(config-vpn-ike-policy\)# $")
        # a command of another node walks up, as in FRR's own daemons
        t.send("router bgp 65009\r")
        t.expect(r"\(config-router\)# $")
        t.send("end\r")
        t.expect(r"# $")
        t.send("exit\r")
        t.proc.wait(timeout=10)
    finally:
        t.close()
    run = vt.running_config()
    assert (" connection tc1\n  remote-address 192.0.2.9\n"
            "  connection-mode initiator-only\n exit\n") in run, run
    assert " ike-policy p9\n exit\n" in run, run
    assert "router bgp 65009" in run, run


def test_vtysh_only_vpnd(router):
    """-d vpnd: one daemon, as watchfrr's start script uses it (vtysh -b -d)."""
    vt = Vtysh(router)
    assert "No connections configured" in vt.out(
        "show vpn connection", args=("-d", "vpnd"))
    run = vt.out("show running-config", args=("-d", "vpnd"))
    assert "router bgp" not in run
    assert vt.out("show running-config vpnd").count("vpn") == 0
    vt.configure(*CONN)
    assert VPN_SECTION in vt.out("show running-config vpnd")
