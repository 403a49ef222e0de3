"""vpnd as an FRR daemon: configuration grammar round trip, refusals,
zebra client registration, config file re-read, clean shutdown.

zebra is Debian's; vpnd is ours; both run in a network namespace with
their own FRR pathspace.
"""
import json
import os
import re

import pytest

from topo import REPO, Topo, wait_for

EXAMPLE = os.path.join(REPO, "configs", "example", "vpnd.conf")
PSK_RE = re.compile(r"(pre-shared-key )\S+")


def redact(text):
    """Test output must never carry a key: mask them in failure messages."""
    return PSK_RE.sub(r"\1<redacted>", text)


def vpn_section(running):
    """The 'vpn' ... 'exit' block of a running-config, as a list of lines."""
    lines = running.splitlines()
    start = lines.index("vpn")
    end = lines.index("exit", start)
    return lines[start:end + 1]


def file_vpn_section(path):
    with open(path) as f:
        return [l for l in f.read().splitlines() if not l.startswith("!")]


@pytest.fixture
def router():
    with Topo("fnd") as topo:
        r = topo.add_router("r1")
        r.start("zebra", "")
        r.start("vpnd", open(EXAMPLE).read())
        yield r


def running_vpn(r):
    return vpn_section(r.cmd("vpnd", "show running-config"))


def test_running_config_round_trip(router):
    """Every node of the grammar is shown back exactly as written."""
    want = file_vpn_section(EXAMPLE)
    got = running_vpn(router)
    assert got == want, redact("\n".join(got))


def test_reread_from_file(router):
    """show running-config, saved as a file, is read back identically."""
    first = running_vpn(router)
    assert router.stop("vpnd"), "vpnd did not stop on SIGTERM"
    router.start("vpnd", "\n".join(first) + "\n")
    assert running_vpn(router) == first


def test_clean_shutdown(router):
    assert router.stop("vpnd", timeout=5), "vpnd did not exit on SIGTERM"
    log = open(router.log_path("vpnd")).read()
    assert "Terminating on signal" in log
    # no dictionary leaks or assertion failures at exit
    assert "not freed" not in log, log[-2000:]
    assert "assert" not in log.lower()


def test_zebra_client(router):
    """vpnd registers with zebra (under the NHRP route type)."""
    out = wait_for(lambda: (o := router.cmd("zebra", "show zebra client"))
                   and "Client: nhrp" in o and o, 10,
                   "vpnd in zebra's client list")
    assert "Client: nhrp" in out
    router.stop("vpnd")
    wait_for(lambda: "Client: nhrp" not in
             router.cmd("zebra", "show zebra client"), 10,
             "vpnd to leave zebra's client list")


# (commands, message that must be printed) -- entered from CONFIG_NODE
REFUSALS = [
    (["vpn", "ike-policy ike-modern", "proposal aes256-sha7-modp2048"],
     "ike proposal 'aes256-sha7-modp2048': unknown algorithm 'sha7'; "
     "accepted: encryption aes128"),
    (["vpn", "ipsec-policy esp-pfs", "proposal aes256gcm16-prfsha256"],
     "'prfsha256' is not allowed in an ipsec proposal"),
    (["vpn", "ike-policy ike-modern", "proposal AES256-SHA256"],
     "proposal: lower-case algorithm keywords"),
    (["vpn", "ike-policy ike-modern", "proposal aes256-sha256"],
     "needs a dh-group"),
    (["vpn", "connection site-b", "pre-shared-key " + "k" * 129],
     "pre-shared-key: 1 to 128 printable ASCII characters without spaces"),
    (["vpn", "connection site-b", "pre-shared-key two words"],
     "pre-shared-key: 1 to 128 printable ASCII characters without spaces"),
    (["vpn", "connection site-b", "pre-shared-key caf\u00e9"],
     "pre-shared-key: 1 to 128 printable ASCII characters without spaces"),
    (["vpn", "connection site-b", "interface this-name-is-too-long"],
     "interface: a Linux interface name of 1 to 15 characters"),
    (["vpn", "connection site-b", "interface vpn/1"],
     "interface: a Linux interface name of 1 to 15 characters"),
    (["vpn", "connection site-b", "interface .."],
     "interface: '.' and '..' are not interface names"),
    (["vpn", "connection site-b", "ike-policy no-such-policy"],
     "ike-policy: no such policy; define it with 'ike-policy NAME' under "
     "'vpn', or use a built-in: default, azure-default, aws-default"),
    (["vpn", "connection site-b", "ipsec-policy no-such-policy"],
     "ipsec-policy: no such policy"),
    (["vpn", "connection site-b", "interface vpn-azure"],
     "interface: already used by another connection"),
    (["vpn", "no ike-policy ike-modern"],
     "ike-policy ike-modern is used by connection site-b"),
    (["vpn", "ike-policy azure-default"],
     "ike-policy: default, azure-default and aws-default are built-in "
     "names"),
    (["vpn", "connection bad'name"],
     "name: 1 to 63 characters from A-Z a-z 0-9 . _ -"),
    (["vpn", "connection site-b", "dpd interval 30 timeout 20"],
     "dpd timeout: must be greater than the dpd interval"),
    (["vpn", "connection site-b", "traffic-selector local 10.0.0.0/8 "
      "remote fd00::/8"],
     "traffic-selector: local and remote prefixes must be of the same "
     "address family"),
    (["vpn", "connection azure", "no interface"],
     "route: the connection needs an interface to route into"),
    (["vpn", "connection site-b", "remote-address 2001:db8::1"],
     "remote-address: must be of the same address family as "
     "local-address"),
]


# What changes by itself while a connection tries to reach its peer.
VOLATILE = ("state", "stateReason", "lastError", "carrier", "underlay")


def conn_config(router):
    """'show vpn connection json' without the run-time state."""
    j = json.loads(router.cmd("vpnd", "show vpn connection json"))
    for c in j["connections"].values():
        for k in VOLATILE:
            c.pop(k, None)
    return j


@pytest.mark.parametrize("cmds,message", REFUSALS,
                         ids=[redact(c[-1])[:40] for c, _ in REFUSALS])
def test_refusals(router, cmds, message):
    """Each bad value is refused with a '%' message naming the field and
    what is accepted, with a failing status, and nothing else changes."""
    before = running_vpn(router)
    before_json = conn_config(router)
    results = router.configure("vpnd", cmds)
    status, out = results[-1]
    for st, _ in results[:-1]:
        assert st == 0
    assert status != 0, redact(out)
    assert out.startswith("%"), redact(out)
    assert message in out, redact(out)
    assert running_vpn(router) == before
    assert conn_config(router) == before_json


def test_show_connection(router):
    out = router.cmd("vpnd", "show vpn connection")
    # site-b's peer is unreachable here: it is trying to connect
    assert re.search(r"Connection site-b: (idle|connecting)", out)
    assert "Connection azure: shutdown" in out
    assert "example-only-change-me" not in out  # never show the key

    j = json.loads(router.cmd("vpnd", "show vpn connection json"))
    c = j["connections"]["site-b"]
    assert c["state"] in ("idle", "connecting")
    assert c["localAddress"] == "192.0.2.1"
    assert c["remoteAddress"] == "198.51.100.2"
    assert c["localId"] == "gw-a.example.net"
    assert c["interface"] == "vpn-b"
    assert c["ikePolicy"] == "ike-modern"
    assert c["ipsecPolicy"] == "esp-pfs"
    assert c["connectionMode"] == "initiator-only"
    assert c["dpdInterval"] == 5 and c["dpdTimeout"] == 20
    assert c["preSharedKeySet"] is True
    assert "preSharedKey" not in c
    assert c["trafficSelectors"] == [
        {"local": "10.1.0.0/16", "remote": "10.2.0.0/16"},
        {"local": "10.1.0.0/16", "remote": "10.3.0.0/16"}]
    assert j["connections"]["azure"]["state"] == "shutdown"

    one = json.loads(router.cmd("vpnd", "show vpn connection azure json"))
    assert list(one["connections"]) == ["azure"]

    # a connection missing mandatory parts says what is missing
    router.configure("vpnd", ["vpn", "connection half"])
    j = json.loads(router.cmd("vpnd", "show vpn connection half json"))
    assert j["connections"]["half"]["state"] == "incomplete"
    assert j["connections"]["half"]["stateReason"] == "no remote-address"


def test_show_policy(router):
    j = json.loads(router.cmd("vpnd", "show vpn policy json"))
    ike = j["ikePolicies"]["ike-modern"]
    assert ike["builtin"] is False
    assert ike["lifetimeSeconds"] == 14400
    assert [p["proposal"] for p in ike["proposals"]] == [
        "aes256gcm16-prfsha384-ecp384",
        "chacha20poly1305-prfsha256-x25519",
        "aes256-sha256-modp2048-prfsha256"]
    assert ike["proposals"][2]["integrity"] == ["sha256"]
    assert ike["proposals"][2]["prf"] == ["prfsha256"]
    esp = j["ipsecPolicies"]["esp-pfs"]
    assert esp["lifetimeKilobytes"] == 50000000
    assert esp["proposals"][0]["dhGroups"] == ["ecp384"]
    az = j["ikePolicies"]["azure-default"]
    assert az["builtin"] is True and az["lifetimeSeconds"] == 28800
    assert az["proposals"][0]["proposal"] == "aes256-sha1-modp1024-prfsha1"
    assert j["ipsecPolicies"]["azure-default"]["lifetimeSeconds"] == 27000
    assert "default" in j["ikePolicies"]
    assert "aws-default" in j["ipsecPolicies"]
    text = router.cmd("vpnd", "show vpn policy")
    assert "IKE policy azure-default (built-in): lifetime 28800s" in text


def test_delete_and_recreate(router):
    """Deleting nodes removes them from running-config and the daemon."""
    res = router.configure("vpnd", ["vpn", "no connection site-b",
                                    "no ike-policy ike-modern"])
    assert all(st == 0 for st, _ in res), res
    sec = running_vpn(router)
    assert " connection site-b" not in sec
    assert " ike-policy ike-modern" not in sec
    j = json.loads(router.cmd("vpnd", "show vpn connection json"))
    assert "site-b" not in j["connections"]
    res = router.configure("vpnd", ["no vpn"])
    assert res[0][0] == 0
    assert "vpn" not in router.cmd("vpnd", "show running-config").split("\n")
    assert "No connections configured" in \
        router.cmd("vpnd", "show vpn connection")


def test_no_key_in_logs(router):
    """Keys never reach the log, even around refused and accepted edits."""
    router.configure("vpnd", ["vpn", "connection site-b",
                              "pre-shared-key fresh-secret-value",
                              "pre-shared-key bad key"])
    router.stop("vpnd")
    log = open(router.log_path("vpnd")).read()
    for secret in ("example-only-change-me", "another-example-key",
                   "fresh-secret-value"):
        assert secret not in log
