"""NETCONF (RFC 6241 over SSH, RFC 6242) against vpnd's NETCONF module,
with python3-ncclient as the client: vpnd and Debian's zebra run in a
network namespace; the client's TCP connection is opened inside it.

Every edit goes through vpnd's northbound, the same transaction as the
CLI: what NETCONF commits shows in vtysh's 'show running-config', what the
CLI changes shows in the next <get-config>, and a refused edit changes
nothing.
"""
import os
import re
import time

import pytest
from lxml import etree
from ncclient.operations.rpc import RPCError

import nclib
from nclib import NC, NS
from topo import REPO, Topo, wait_for

EXAMPLES = os.path.join(REPO, "configs")

pytestmark = pytest.mark.skipif(
    not os.path.exists(nclib.MODULE),
    reason=f"the NETCONF module is not built ({nclib.MODULE})")

BASE_CONF = """vpn
 ike-policy base-ike
  proposal aes256-sha256-modp2048
 exit
 connection base
  local-address 192.0.2.1
  remote-address 192.0.2.200
  pre-shared-key base-secret-1
  interface vpn-base
 exit
exit
"""

# Two connections and the policy they use, as one edit.
TWO_CONNS = f"""<config xmlns="{NC}"><vpn xmlns="{NS}">
 <ike-policy><name>nc-ike</name>
  <proposal>aes256gcm16-prfsha384-ecp384</proposal>
  <proposal>aes128-sha256-modp2048</proposal>
  <lifetime>14400</lifetime></ike-policy>
 <connection><name>nc-one</name>
  <local-address>192.0.2.1</local-address>
  <remote-address>198.51.100.1</remote-address>
  <pre-shared-key>nc-secret-one</pre-shared-key>
  <ike-policy>nc-ike</ike-policy>
  <interface>vpn-nc1</interface>
  <route>10.50.0.0/16</route></connection>
 <connection><name>nc-two</name>
  <local-address>192.0.2.1</local-address>
  <remote-address>198.51.100.2</remote-address>
  <pre-shared-key>nc-secret-two</pre-shared-key>
  <ike-policy>nc-ike</ike-policy>
  <interface>vpn-nc2</interface>
  <dpd><interval>5</interval><timeout>20</timeout></dpd></connection>
</vpn></config>"""


def vpn_config(body):
    return f'<config xmlns="{NC}"><vpn xmlns="{NS}">{body}</vpn></config>'


def running_cli(r):
    """vpnd's section of 'show running-config' (the lines before it name
    the log file, whose random path must not match test names)."""
    out = r.cmd("vpnd", "show running-config")
    start = out.find("\nvpn\n")
    return out[start + 1:] if start >= 0 else ""


def cfg_xml(m, source="running", filt=None):
    reply = m.get_config(source, filter=filt)
    return etree.fromstring(reply.data_xml.encode())


def names(root, list_name):
    return sorted(root.xpath(f"//v:{list_name}/v:name/text()",
                             namespaces={"v": NS}))


def rpc_error(fn, *args, **kw):
    """Run an operation that must fail; return the RPCError."""
    with pytest.raises(RPCError) as ei:
        fn(*args, **kw)
    return ei.value


def stall(ns, port=nclib.PORT):
    """A raw TCP connection that sends nothing, once a server thread has
    taken it into its SSH handshake (the server's banner came)."""
    sock = nclib.ns_socket(ns, port=port)
    sock.settimeout(2)
    try:
        banner = sock.recv(100)
    except OSError:
        banner = b""
    if not banner.startswith(b"SSH-2.0-"):
        sock.close()
        raise AssertionError(f"no SSH banner within 2 s on a new "
                             f"connection behind stalled ones: {banner!r}")
    return sock


def closed_after(sock, t0, limit=20):
    """Seconds from t0 until the server closed sock (it sends nothing
    more than its banner)."""
    sock.settimeout(limit)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, TimeoutError, OSError):
        pass
    return time.monotonic() - t0


@pytest.fixture(scope="module")
def lab():
    with Topo("nc") as topo:
        r = topo.add_router("r1")
        r.start("zebra", "")
        keys = nclib.Keys(r.dir)
        nclib.start_vpnd(r, keys, BASE_CONF)
        yield r, keys
        assert r.alive("vpnd"), "vpnd died during the NETCONF tests"
        log = open(r.log_path("vpnd")).read()
        for secret in ("base-secret-1", "base-secret-2", "nc-secret-one",
                       "nc-secret-two", "k" * 129):
            assert secret not in log, "a pre-shared key is in vpnd's log"


@pytest.fixture
def m(lab):
    """A session on a lab reset to BASE_CONF (running and candidate)."""
    r, keys = lab
    with nclib.connect(r, keys) as s:
        s.discard_changes()
        s.copy_config(source=f'<source xmlns="{NC}"><config>'
                      + base_xml() + "</config></source>", target="running")
        yield s


def base_xml():
    return (f'<vpn xmlns="{NS}"><ike-policy><name>base-ike</name>'
            "<proposal>aes256-sha256-modp2048</proposal></ike-policy>"
            "<connection><name>base</name>"
            "<local-address>192.0.2.1</local-address>"
            "<remote-address>192.0.2.200</remote-address>"
            "<pre-shared-key>base-secret-1</pre-shared-key>"
            "<interface>vpn-base</interface></connection></vpn>")


# ---------------------------------------------------------------------------


def test_hello_capabilities(lab, m):
    caps = set(m.server_capabilities)
    for want in ("urn:ietf:params:netconf:base:1.0",
                 "urn:ietf:params:netconf:base:1.1",
                 "urn:ietf:params:netconf:capability:writable-running:1.0",
                 "urn:ietf:params:netconf:capability:candidate:1.0",
                 "urn:ietf:params:netconf:capability:validate:1.1",
                 "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
                 "urn:ietf:params:netconf:capability:xpath:1.0"):
        assert want in caps, f"missing {want} in {sorted(caps)}"
    assert any(c.startswith("urn:ietf:params:netconf:capability:"
                            "with-defaults:1.0?basic-mode=explicit")
               for c in caps), sorted(caps)
    assert any(c.startswith("urn:ietf:params:netconf:capability:"
                            "yang-library:1.1") for c in caps), sorted(caps)
    assert int(m.session_id) > 0
    # ncclient chose the chunked framing of base:1.1
    from ncclient.transport.session import NetconfBase
    assert m._session._base == NetconfBase.BASE_11


def test_module_list_and_get_schema(m):
    """The module list (yang-library, netconf-state/schemas) names vpnd,
    and <get-schema> returns it."""
    yl = m.get(filter=("subtree",
                       '<yang-library xmlns="urn:ietf:params:xml:ns:'
                       'yang:ietf-yang-library"/>')).data_xml
    assert "<name>vpnd</name>" in yl, yl[:2000]
    schemas = m.get(filter=("subtree",
                            '<netconf-state xmlns="urn:ietf:params:xml:ns:'
                            'yang:ietf-netconf-monitoring"><schemas/>'
                            '</netconf-state>')).data_xml
    assert "<identifier>vpnd</identifier>" in schemas, schemas[:2000]
    text = m.get_schema("vpnd").data
    assert text.lstrip().startswith("module vpnd"), text[:200]
    assert "oper-state" in text and "pre-shared-key" in text


def test_get_config_and_cli_change(lab, m):
    r, _ = lab
    root = cfg_xml(m)
    assert names(root, "connection") == ["base"]
    assert names(root, "ike-policy") == ["base-ike"]
    # a CLI change shows in the next get-config, of running and candidate
    res = r.configure("vpnd", ["vpn", "connection cli-made",
                               "remote-address 203.0.113.7", "exit", "exit"])
    assert all(st == 0 for st, _ in res), res
    assert names(cfg_xml(m), "connection") == ["base", "cli-made"]
    assert names(cfg_xml(m, "candidate"), "connection") == ["base",
                                                            "cli-made"]
    # subtree filter with a content match
    got = cfg_xml(m, filt=("subtree", f'<vpn xmlns="{NS}"><connection>'
                           "<name>cli-made</name></connection></vpn>"))
    assert names(got, "connection") == ["cli-made"]
    assert not got.xpath("//v:ike-policy", namespaces={"v": NS})
    # xpath filter, its prefix bound to vpnd's namespace
    got = cfg_xml(m, filt=("xpath", ({"v": NS},
                                     "/v:vpn/v:connection[v:name='base']")))
    assert names(got, "connection") == ["base"], etree.tostring(got)


def test_candidate_commit_visible_in_vtysh(lab, m):
    r, _ = lab
    m.edit_config(target="candidate", config=TWO_CONNS)
    # not in running before the commit, in the candidate already
    assert names(cfg_xml(m), "connection") == ["base"]
    assert names(cfg_xml(m, "candidate"), "connection") == [
        "base", "nc-one", "nc-two"]
    assert "nc-one" not in running_cli(r)
    m.validate(source="candidate")
    m.commit()
    run = running_cli(r)
    for line in (" ike-policy nc-ike",
                 "  proposal aes256gcm16-prfsha384-ecp384",
                 "  proposal aes128-sha256-modp2048", "  lifetime 14400",
                 " connection nc-one", "  remote-address 198.51.100.1",
                 "  ike-policy nc-ike", "  interface vpn-nc1",
                 "  route 10.50.0.0/16", " connection nc-two",
                 "  dpd interval 5 timeout 20", "  interface vpn-nc2"):
        assert line + "\n" in run, f"{line!r} not in:\n{run}"
    # proposals keep the order of the edit
    assert run.index("aes256gcm16-prfsha384") < run.index("aes128-sha256")
    conns = r.cmd("vpnd", "show vpn connection json")
    assert '"nc-one"' in conns and '"nc-two"' in conns
    assert names(cfg_xml(m), "connection") == ["base", "nc-one", "nc-two"]
    # the CLI keeps what NETCONF committed when it changes something else
    res = r.configure("vpnd", ["vpn", "connection base", "dpd interval 7",
                               "exit", "exit"])
    assert all(st == 0 for st, _ in res), res
    run = running_cli(r)
    assert " connection nc-one\n" in run and "dpd interval 7" in run, run


BAD_EDITS = [
    ("unknown algorithm",
     "<ike-policy><name>bad-ike</name><proposal>aes999-sha256-modp2048"
     "</proposal></ike-policy>",
     "ike-policy[name='bad-ike']/proposal", r"unknown|aes999"),
    ("missing reference",
     "<connection><name>base</name><ike-policy>no-such-policy</ike-policy>"
     "</connection>",
     "connection[name='base']/ike-policy", r"ike-policy: no such policy"),
    ("pre-shared key too long",
     "<connection><name>base</name><pre-shared-key>" + "k" * 129
     + "</pre-shared-key></connection>",
     "connection[name='base']/pre-shared-key",
     r"pre-shared-key: 1 to 128 printable ASCII characters"),
]


@pytest.mark.parametrize("what,body,path,msg", BAD_EDITS,
                         ids=[b[0] for b in BAD_EDITS])
@pytest.mark.parametrize("target", ["running", "candidate"])
def test_bad_edit_refused(lab, m, what, body, path, msg, target):
    r, _ = lab
    before_cli = running_cli(r)
    before_nc = m.get_config("running").data_xml

    def attempt():
        m.edit_config(target=target, config=vpn_config(body))
        if target == "candidate":
            m.commit()
    err = rpc_error(attempt)
    print(f"{what} ({target}): tag={err.tag} path={err.path} "
          f"message={err.message}")
    assert err.tag in ("invalid-value", "operation-failed", "data-missing",
                       "bad-element"), err.tag
    assert re.search(msg, err.message or ""), \
        f"expected message /{msg}/, seen {err.message!r}"
    assert err.path and err.path.startswith("/vpnd:vpn/") and \
        path in err.path, \
        f"expected error-path with {path!r}, seen {err.path!r}"
    if target == "candidate":
        m.discard_changes()
    assert running_cli(r) == before_cli
    assert m.get_config("running").data_xml == before_nc


def test_replace_remove_create_delete(lab, m):
    r, _ = lab
    # replace: the connection becomes exactly what the edit says
    m.edit_config(target="running", config=vpn_config(
        '<connection xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" '
        'nc:operation="replace"><name>base</name>'
        "<remote-address>192.0.2.201</remote-address>"
        "<pre-shared-key>base-secret-2</pre-shared-key></connection>"))
    run = running_cli(r)
    assert "remote-address 192.0.2.201" in run, run
    assert "interface vpn-base" not in run and "local-address" not in run
    # remove: present or not, no error
    for _ in range(2):
        m.edit_config(target="running", config=vpn_config(
            '<ike-policy xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" '
            'nc:operation="remove"><name>base-ike</name></ike-policy>'))
    assert "base-ike" not in running_cli(r)
    # delete of what is not there: data-missing
    err = rpc_error(m.edit_config, target="running", config=vpn_config(
        '<ike-policy xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" '
        'nc:operation="delete"><name>base-ike</name></ike-policy>'))
    assert err.tag == "data-missing", err
    # create of what is there: data-exists
    err = rpc_error(m.edit_config, target="running", config=vpn_config(
        '<connection xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" '
        'nc:operation="create"><name>base</name></connection>'))
    assert err.tag == "data-exists", err
    # delete of a leaf-list entry
    m.edit_config(target="running", config=vpn_config(
        "<connection><name>base</name><route>10.9.0.0/16</route>"
        "<route>10.8.0.0/16</route><interface>vpn-base</interface>"
        "</connection>"))
    m.edit_config(target="running", config=vpn_config(
        '<connection xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">'
        '<name>base</name><route nc:operation="delete">10.9.0.0/16</route>'
        "</connection>"))
    run = running_cli(r)
    assert "route 10.8.0.0/16" in run and "10.9.0.0" not in run, run


def test_discard_changes_and_validate(lab, m):
    r, _ = lab
    m.edit_config(target="candidate", config=vpn_config(
        "<connection><name>scratch</name>"
        "<remote-address>203.0.113.9</remote-address></connection>"))
    assert "scratch" in names(cfg_xml(m, "candidate"), "connection")
    m.validate(source="candidate")
    m.discard_changes()
    assert names(cfg_xml(m, "candidate"), "connection") == ["base"]
    # a candidate that does not validate: validate and commit refuse it
    m.edit_config(target="candidate", config=vpn_config(
        "<connection><name>base</name><ipsec-policy>nope</ipsec-policy>"
        "</connection>"))
    err = rpc_error(m.validate, source="candidate")
    assert "ipsec-policy: no such policy" in err.message, err.message
    err = rpc_error(m.commit)
    assert "ipsec-policy: no such policy" in err.message, err.message
    assert "nope" not in running_cli(r)
    m.discard_changes()
    m.validate(source="running")
    # test-option test-only checks an edit without applying it
    m.edit_config(target="running", test_option="test-only",
                  config=vpn_config("<connection><name>tested</name>"
                                    "</connection>"))
    assert "tested" not in running_cli(r)


def test_lock_blocks_other_session(lab, m):
    r, keys = lab
    with nclib.connect(r, keys) as other:
        m.lock("running")
        try:
            err = rpc_error(other.edit_config, target="running",
                            config=vpn_config("<connection><name>x1"
                                              "</name></connection>"))
            assert err.tag == "in-use", err
            err = rpc_error(other.lock, "running")
            assert err.tag == "lock-denied", err
            assert err.info and m.session_id in err.info, err.info
            # the CLI cannot commit either while NETCONF holds the lock
            res = r.configure("vpnd", ["vpn", "connection x2", "exit",
                                       "exit"])
            assert " connection x2\n" not in running_cli(r), res
            # the holder can edit
            m.edit_config(target="running", config=vpn_config(
                "<connection><name>x3</name></connection>"))
        finally:
            m.unlock("running")
        other.edit_config(target="running", config=vpn_config(
            "<connection><name>x1</name></connection>"))
        assert " connection x1\n" in running_cli(r)

        # candidate lock
        m.lock("candidate")
        err = rpc_error(other.edit_config, target="candidate",
                        config=vpn_config("<connection><name>x4</name>"
                                          "</connection>"))
        assert err.tag == "in-use", err
        m.unlock("candidate")
        other.edit_config(target="candidate", config=vpn_config(
            "<connection><name>x4</name></connection>"))
        err = rpc_error(m.lock, "candidate")  # it has uncommitted changes
        assert err.tag == "lock-denied", err
        other.discard_changes()
    # a session's locks go with it
    with nclib.connect(r, keys) as a:
        a.lock("running")
    with nclib.connect(r, keys) as b:
        b.lock("running")
        b.unlock("running")


def test_unauthorized_key_refused(lab):
    r, keys = lab
    from ncclient.transport.errors import AuthenticationError
    with pytest.raises(AuthenticationError):
        nclib.connect(r, keys, key=keys.stranger)


def test_framing_base_1_0(lab, m):
    """A client that only speaks base:1.0 gets end-of-message framing."""
    import paramiko
    r, keys = lab
    sock = nclib.ns_socket(r.ns)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=10)
        t.auth_publickey(nclib.USER, paramiko.Ed25519Key.from_private_key_file(
            keys.client))
        ch = t.open_session()
        ch.settimeout(10)
        ch.invoke_subsystem("netconf")

        def read_msg():
            buf = b""
            while b"]]>]]>" not in buf:
                d = ch.recv(65536)
                assert d, f"closed; got {buf!r}"
                buf += d
            return buf.split(b"]]>]]>")[0].decode()
        hello = read_msg()
        assert "urn:ietf:params:netconf:base:1.0" in hello
        ch.sendall((f'<?xml version="1.0" encoding="UTF-8"?><hello xmlns="{NC}">'
                    "<capabilities><capability>urn:ietf:params:netconf:base:1.0"
                    "</capability></capabilities></hello>]]>]]>").encode())
        ch.sendall((f'<rpc xmlns="{NC}" message-id="7"><get-config><source>'
                    "<running/></source></get-config></rpc>]]>]]>").encode())
        reply = read_msg()
        assert 'message-id="7"' in reply and "<name>base</name>" in reply, \
            reply
        assert not reply.lstrip().startswith("#"), "chunked reply on 1.0"
        ch.sendall((f'<rpc xmlns="{NC}" message-id="8"><close-session/></rpc>'
                    "]]>]]>").encode())
        assert "<ok/>" in read_msg()
    finally:
        t.close()


def vpn_section(text):
    lines = [l for l in text.splitlines() if not l.startswith("!")]
    start = lines.index("vpn")
    return lines[start:lines.index("exit", start) + 1]


def test_example_documents(lab, m):
    """configs/netconf/vpnd-example.xml is configs/example/vpnd.conf: copied
    into running, vtysh shows that file; edit-add-site-c.xml applies."""
    r, _ = lab
    doc = open(os.path.join(EXAMPLES, "netconf", "vpnd-example.xml")).read()
    m.copy_config(source=f'<source xmlns="{NC}"><config>{doc}</config>'
                  "</source>", target="running")
    want = vpn_section(open(os.path.join(EXAMPLES, "example",
                                         "vpnd.conf")).read())
    assert vpn_section(running_cli(r)) == want
    edit = open(os.path.join(EXAMPLES, "netconf",
                             "edit-add-site-c.xml")).read()
    edit = edit[edit.index("<vpn"):]
    m.edit_config(target="candidate",
                  config=f'<config xmlns="{NC}">{edit}</config>')
    m.commit()
    run = running_cli(r)
    assert " connection site-c\n" in run and "connection azure" not in run
    assert "remote 10.3.0.0/16" not in run and "remote 10.2.0.0/16" in run


def test_clean_shutdown_with_open_session():
    """SIGTERM stops vpnd promptly while a NETCONF session is open; a
    session that drops mid-way releases its lock."""
    with Topo("ncsd") as topo:
        r = topo.add_router("r1")
        r.start("zebra", "")
        keys = nclib.Keys(r.dir)
        nclib.start_vpnd(r, keys, BASE_CONF, port=2830)
        s = nclib.connect(r, keys, port=2830)
        s.lock("running")
        s._session._transport.close()  # no close-session: the TCP just goes
        with nclib.connect(r, keys, port=2830) as s2:
            wait_for(lambda: s2.lock("running").ok, 10,
                     "the dropped session's lock to be released")
            s2.unlock("running")
        s3 = nclib.connect(r, keys, port=2830)
        s3.get_config("running")
        # handshakes in progress end at once, not at their timeouts
        raws = [stall(r.ns, port=2830) for _ in range(2)]
        t0 = time.monotonic()
        assert r.stop("vpnd", timeout=10), \
            "vpnd did not stop on SIGTERM with a NETCONF session open"
        took = time.monotonic() - t0
        print(f"vpnd stopped in {took:.2f}s")
        assert took < 5, f"vpnd took {took:.2f}s to stop"
        s3._session._transport.close()
        for raw in raws:
            raw.close()


def test_with_defaults(m):
    """basic-mode explicit hides defaults; report-all shows them,
    report-all-tagged marks them, trim drops them."""
    filt = ("subtree", f'<vpn xmlns="{NS}"><ike-policy/></vpn>')

    def get(mode=None):
        return m.get_config("running", filter=filt,
                            with_defaults=mode).data_xml
    assert "<lifetime>" not in get(), get()
    assert "<lifetime>28800</lifetime>" in get("report-all")
    assert re.search(r'<lifetime [^>]*default="true"[^>]*>28800<',
                     get("report-all-tagged")), get("report-all-tagged")
    assert "<lifetime>" not in get("trim")
    m.edit_config(target="running", config=vpn_config(
        "<ike-policy><name>base-ike</name><lifetime>14400</lifetime>"
        "</ike-policy>"))
    for mode in (None, "trim", "report-all"):
        assert "<lifetime>14400</lifetime>" in get(mode), (mode, get(mode))
    assert not re.search(r'<lifetime [^>]*default=', get("report-all-tagged"))


def test_kill_session(lab, m):
    r, keys = lab
    other = nclib.connect(r, keys)
    other.lock("candidate")
    m.kill_session(other.session_id)
    # the killed session's lock is gone
    wait_for(lambda: m.lock("candidate").ok, 10, "candidate lock")
    m.unlock("candidate")
    err = rpc_error(m.kill_session, m.session_id)
    assert err.tag == "invalid-value", err


def test_bad_requests(lab, m):
    """Malformed or unknown content is refused; vpnd stays up."""
    r, _ = lab
    err = rpc_error(m.edit_config, target="running", config=vpn_config(
        "<connection><name>base</name><no-such-leaf>1</no-such-leaf>"
        "</connection>"))
    assert err.tag in ("unknown-element", "invalid-value"), err
    assert "no-such-leaf" in (err.message or ""), err.message
    err = rpc_error(m.edit_config, target="running", config=vpn_config(
        '<connection xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" '
        'nc:operation="frobnicate"><name>base</name></connection>'))
    # libnetconf2 refuses it while parsing the <rpc>
    assert err.tag in ("bad-attribute", "invalid-value",
                       "operation-failed"), err
    assert "frobnicate" in (err.message or ""), err.message
    err = rpc_error(m.edit_config, target="running", config=vpn_config(
        "<connection><remote-address>192.0.2.9</remote-address>"
        "</connection>"))  # no key
    assert err.tag in ("missing-element", "invalid-value",
                       "data-missing"), err
    err = rpc_error(m.edit_config, target="running", config=vpn_config(
        "<connection><name>base</name><state><carrier>true</carrier>"
        "</state></connection>"))  # state is not configuration
    assert err.tag in ("invalid-value", "unknown-element"), err
    # a filter on an unknown namespace selects nothing
    data = m.get_config("running", filter=(
        "subtree", '<nothing xmlns="urn:example:none"/>')).data_xml
    assert "<vpn" not in data, data
    assert r.alive("vpnd")
    assert names(cfg_xml(m), "connection") == ["base"]


def test_pre_shared_key_write_only(lab, m):
    """The pre-shared key is write-only (RFC 9061: nacm:default-deny-all):
    set over NETCONF and over the CLI, it is in no get-config (running,
    candidate) nor get reply; an edit of it still takes effect."""
    import json
    r, _ = lab
    nc_psk, cli_psk, cand_psk = ("wo-secret-nc-7f3a", "wo-secret-cli-91bd",
                                 "wo-secret-cand-c0de")
    m.edit_config(target="running", config=vpn_config(
        "<connection><name>base</name>"
        f"<pre-shared-key>{nc_psk}</pre-shared-key></connection>"))
    res = r.configure("vpnd", ["vpn", "connection cli-psk",
                               "remote-address 203.0.113.9",
                               f"pre-shared-key {cli_psk}", "exit", "exit"])
    assert all(st == 0 for st, _ in res), res
    # an uncommitted candidate edit of a key is not shown either
    m.edit_config(target="candidate", config=vpn_config(
        "<connection><name>cli-psk</name>"
        f"<pre-shared-key>{cand_psk}</pre-shared-key></connection>"))
    replies = {
        "get-config running": m.get_config("running").data_xml,
        "get-config candidate": m.get_config("candidate").data_xml,
        "get": m.get().data_xml,
        "get report-all": m.get(with_defaults="report-all").data_xml,
        "get-config filtered": m.get_config("running", filter=(
            "subtree", f'<vpn xmlns="{NS}"><connection><name>base</name>'
            "<pre-shared-key/></connection></vpn>")).data_xml,
    }
    for what, text in replies.items():
        for psk in (nc_psk, cli_psk, cand_psk, "base-secret-1"):
            assert psk not in text, f"{what} returns a pre-shared key"
        assert "pre-shared-key" not in text, f"{what} has a pre-shared-key"
    # the rest of the connection is still there
    assert names(cfg_xml(m), "connection") == ["base", "cli-psk"]
    # the keys are set: NETCONF's edit, the CLI's, and the candidate's
    # once committed
    m.commit()
    j = json.loads(r.cmd("vpnd", "show vpn connection json"))
    for name in ("base", "cli-psk"):
        assert j["connections"][name]["preSharedKeySet"] is True, name
    run = running_cli(r)
    assert f"pre-shared-key {nc_psk}" in run
    assert f"pre-shared-key {cand_psk}" in run


def test_listens_on_loopback_by_default(lab):
    """Without address= the server listens on 127.0.0.1 only, and says so."""
    r, _ = lab
    log = open(r.log_path("vpnd")).read()
    assert f"listening on [127.0.0.1]:{nclib.PORT}" in log, log[-2000:]
    socks = r.exec(["ss", "-Hltn", f"sport = :{nclib.PORT}"])
    assert socks.split() and all(
        line.split()[3] == f"127.0.0.1:{nclib.PORT}"
        for line in socks.splitlines() if line.strip()), socks


@pytest.mark.parametrize("what,spoil,reason", [
    ("authorized-keys", lambda k: os.chmod(k.authorized, 0o664),
     "is writable by group (mode 0664)"),
    ("host-key", lambda k: os.chmod(k.host, 0o602),
     "is writable by others (mode 0602)"),
    ("host-key", lambda k: os.chown(k.host, 65534, 65534),
     "is owned by uid 65534, not by root or the daemon's user"),
])
def test_insecure_key_file_refused(what, spoil, reason):
    """A key file that others could change stops vpnd at start-up with the
    reason (stderr and log); nothing listens. Fixed, vpnd starts."""
    with Topo("ncperm") as topo:
        r = topo.add_router("r1")
        r.start("zebra", "")
        keys = nclib.Keys(r.dir)
        spoil(keys)
        with pytest.raises(RuntimeError) as ei:
            r.start("vpnd", BASE_CONF, extra=["-M", keys.module_arg(2831)])
        msg = str(ei.value)
        assert f"refusing to start: {what}:" in msg and reason in msg, msg
        # exit status 1, not a crash in FRR's module loader
        assert "failed (1)" in msg and "module not loaded" in msg, msg
        log = open(r.log_path("vpnd")).read()
        assert f"refusing to start: {what}:" in log and reason in log, log
        assert not r.alive("vpnd")
        assert ":2831" not in r.exec(["ss", "-Hltn"])
        # the normal case: a key file mode 0644 root or 0600 frr
        os.chmod(keys.authorized, 0o644)
        os.chmod(keys.host, 0o600)
        frr = nclib.pwd.getpwnam("frr")
        os.chown(keys.host, frr.pw_uid, frr.pw_gid)
        nclib.start_vpnd(r, keys, BASE_CONF, port=2831)
        with nclib.connect(r, keys, port=2831) as s:
            assert names(cfg_xml(s), "connection") == ["base"]
        # checked again at each login: spoiled later, logins are refused
        os.chmod(keys.authorized, 0o666)
        with pytest.raises(Exception):
            nclib.connect(r, keys, port=2831, timeout=10).close_session()
        assert "authorized keys refused" in open(r.log_path("vpnd")).read()
        os.chmod(keys.authorized, 0o644)
        with nclib.connect(r, keys, port=2831) as s:
            assert names(cfg_xml(s), "connection") == ["base"]


def test_stalled_handshake_does_not_block(lab, m):
    """A client that opens TCP and sends nothing (the SSH handshake waits
    for it) does not delay an existing session's RPCs."""
    r, keys = lab
    m.get_config("running")
    raw = nclib.ns_socket(r.ns)
    try:
        time.sleep(0.3)  # the server has taken it and waits for its banner
        for _ in range(3):
            t0 = time.monotonic()
            root = cfg_xml(m)
            took = time.monotonic() - t0
            assert names(root, "connection") == ["base"]
            assert took < 1.0, \
                f"get-config took {took:.2f}s behind a stalled handshake"
    finally:
        raw.close()
    # the stalled connection gone, a new session gets in at once
    t0 = time.monotonic()
    with nclib.connect(r, keys, timeout=10) as s2:
        assert names(cfg_xml(s2), "connection") == ["base"]
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("stalled", [1, 3])
def test_stalled_handshakes_do_not_block_logins(lab, m, stalled):
    """Raw TCP clients that send nothing hold a handshake each (fewer of
    them than the 4 accepting threads): a new login and its get-config
    take under 2 s, and the open session's RPCs stay under 1 s."""
    r, keys = lab
    m.get_config("running")
    raws = []
    try:
        for _ in range(stalled):
            raws.append(stall(r.ns))
        for _ in range(3):
            t0 = time.monotonic()
            assert names(cfg_xml(m), "connection") == ["base"]
            took = time.monotonic() - t0
            assert took < 1.0, \
                f"get-config took {took:.2f}s behind {stalled} stalled"
        t0 = time.monotonic()
        with nclib.connect(r, keys, timeout=10) as s2:
            assert names(cfg_xml(s2), "connection") == ["base"]
            took = time.monotonic() - t0
        assert took < 2.0, \
            f"a new login took {took:.2f}s behind {stalled} stalled"
    finally:
        for raw in raws:
            raw.close()


def test_stalled_handshakes_time_out():
    """accept-threads=2, both held: one client sends nothing (libnetconf2's
    10 s key exchange timeout), one finishes the key exchange and never
    authenticates (vpnd's 10 s authentication timeout; libnetconf2's
    default is 30 s). The server drops both within 15 s, and a login that
    waited behind them then gets in."""
    import paramiko
    with Topo("nctmo") as topo:
        r = topo.add_router("r1")
        r.start("zebra", "")
        keys = nclib.Keys(r.dir)
        nclib.start_vpnd(r, keys, BASE_CONF, port=2833,
                         extra="accept-threads=2")
        t0 = time.monotonic()
        raw = stall(r.ns, port=2833)
        t = paramiko.Transport(nclib.ns_socket(r.ns, port=2833))
        try:
            t.start_client(timeout=5)  # key exchange done, no auth
            with nclib.connect(r, keys, port=2833, timeout=30) as s:
                assert names(cfg_xml(s), "connection") == ["base"]
                took = time.monotonic() - t0
            print(f"login behind two stalled handshakes: {took:.2f}s")
            assert took < 15, f"a login waited {took:.2f}s"
            took = closed_after(raw, t0)
            assert took < 15, f"a silent client kept for {took:.2f}s"
            wait_for(lambda: not t.is_active(), max(0.1, 15 - (time.monotonic() - t0)),
                     "the server to drop the unauthenticated client")
        finally:
            raw.close()
            t.close()
        log = open(r.log_path("vpnd")).read()
        assert "failed to authenticate for too long" in log, log[-3000:]


def try_connect(r, keys, port):
    try:
        return nclib.connect(r, keys, port=port, timeout=5)
    except Exception:
        return None


def test_max_sessions():
    """max-sessions=2: a third connection is closed before the SSH
    handshake (no banner), logged once per burst; once a session ends, a
    new one gets in."""
    with Topo("ncmax") as topo:
        r = topo.add_router("r1")
        r.start("zebra", "")
        keys = nclib.Keys(r.dir)
        nclib.start_vpnd(r, keys, BASE_CONF, port=2832,
                         extra="max-sessions=2")
        s1 = nclib.connect(r, keys, port=2832)
        s2 = nclib.connect(r, keys, port=2832)
        for _ in range(3):
            sock = nclib.ns_socket(r.ns, port=2832, timeout=5)
            try:
                data = sock.recv(100)
            except ConnectionResetError:
                data = b""
            finally:
                sock.close()
            assert data == b"", f"a third connection got {data!r}"
        log = open(r.log_path("vpnd")).read()
        assert log.count("session limit (max-sessions=2) reached") == 1, log
        # the two sessions still work
        assert names(cfg_xml(s1), "connection") == ["base"]
        sid = s2.session_id
        s2.close_session()
        # the reply comes before the server ends the session: a connection
        # made meanwhile would be one more refusal
        wait_for(lambda: f"session {sid} ({nclib.USER}) ended" in
                 open(r.log_path("vpnd")).read(), 10, "the session to end")
        s3 = wait_for(lambda: try_connect(r, keys, 2832), 10,
                      "a session after one ended")
        assert names(cfg_xml(s3), "connection") == ["base"]
        log = open(r.log_path("vpnd")).read()
        assert "3 connections closed at the session limit" in log, log
        s3.close_session()
        s1.close_session()
        wait_for(lambda: open(r.log_path("vpnd")).read().count(
            ") ended") == 3, 10, "the three sessions to end")
        # sessions in their handshake count: two stalled clients take both
        raws = [stall(r.ns, port=2832) for _ in range(2)]
        try:
            sock = nclib.ns_socket(r.ns, port=2832, timeout=5)
            try:
                data = sock.recv(100)
            except ConnectionResetError:
                data = b""
            finally:
                sock.close()
            assert data == b"", f"a third connection got {data!r}"
            # logged once more (a new burst), after the close
            wait_for(lambda: open(r.log_path("vpnd")).read().count(
                "session limit (max-sessions=2) reached") == 2, 5,
                "the new burst to be logged")
        finally:
            for raw in raws:
                raw.close()
        s4 = wait_for(lambda: try_connect(r, keys, 2832), 10,
                      "a session after the stalled clients left")
        s4.close_session()
