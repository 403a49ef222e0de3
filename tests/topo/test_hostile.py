"""Hostile input from the peer's own address, in namespaces: messages that
no key protects must not crash vpnd, change a connection or keep a tunnel
down. The sender is a plain UDP socket in the peer's namespace, bound to
the peer's address (what any host on the path could send).

The floods (test_random_datagram_flood, test_init_flood_cookie) send
from one python process inside the peer's namespace that makes every
datagram itself (FLOOD_PY): tens of thousands of datagrams in about ten
seconds, while a ping crosses the tunnel. Datagrams that must reach the
tunnel's own connected socket on r1 (source port 4500) go out through a raw
socket with the peer's address and port; the rest through a UDP socket
bound to the peer's address.

vpnd under ASan + UBSan in the sanitizer pass of scripts/test: a crash or
a sanitizer report fails the run.
"""
import contextlib
import json
import os
import re
import struct
import subprocess
import threading
import time

from topo import VPND, Topo, sh, wait_for
from test_tunnel import Pair, conn_json, ping, wait_established

R1, R2 = "192.0.2.1", "192.0.2.2"


def sas(r):
    return json.loads(r.cmd("vpnd", "show vpn sa json"))["ikeSas"]


def ike_header(spi_i, spi_r, first, exchange, flags, msgid, body):
    return struct.pack("!QQBBBBII", spi_i, spi_r, first, 0x20, exchange,
                       flags, msgid, 28 + len(body)) + body


def payload(nxt, data):
    return struct.pack("!BBH", nxt, 0, 4 + len(data)) + data


def transform(last, ttype, tid, keylen=None):
    attrs = struct.pack("!HH", 0x800E, keylen) if keylen else b""
    body = struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs),
                       ttype, 0, tid) + attrs
    return body


def ike_sa_init_payloads():
    """The SA, KE and Nonce payloads of ike_sa_init()."""
    trans = (transform(False, 1, 20, 256) + transform(False, 2, 5) +
             transform(True, 4, 31))
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(trans), 1, 1, 0, 3) + trans
    sa = payload(34, prop)
    ke = payload(40, struct.pack("!HH", 31, 0) + os.urandom(32))
    nonce = payload(0, os.urandom(32))
    return sa, ke, nonce


def ike_sa_init(spi_i):
    """An IKE_SA_INIT request vpnd's default policy accepts
    (AES-GCM-256, PRF SHA2-256, x25519), with a random public value."""
    sa, ke, nonce = ike_sa_init_payloads()
    return ike_header(spi_i, 0, 33, 34, 0x08, 0, sa + ke + nonce)


def ike_sa_init_template():
    """ike_sa_init(0), and the byte ranges ([offset, length]) that make a
    new request of it when filled with random bytes: the initiator's SPI,
    the public value, the nonce (FLOOD_PY's "init" mode)."""
    sa, ke, nonce = ike_sa_init_payloads()
    msg = ike_header(0, 0, 33, 34, 0x08, 0, sa + ke + nonce)
    ke_at = 28 + len(sa) + 8  # generic header, DH group, reserved
    nonce_at = 28 + len(sa) + len(ke) + 4
    return msg, [[0, 8], [ke_at, len(ke) - 8], [nonce_at, len(nonce) - 4]]


class Sender:
    """UDP from the peer's namespace and address."""

    def __init__(self, r, src):
        self.r, self.src = r, src

    def send(self, msgs, port=500, marker=False):
        script = (
            "import socket,sys,binascii\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            f"s.bind(('{self.src}',0))\n"
            "for line in sys.stdin:\n"
            "    m=binascii.unhexlify(line.strip())\n"
            f"    s.sendto(m,('{R1}',{port}))\n")
        data = "\n".join(((b"\0" * 4 if marker else b"") + m).hex()
                         for m in msgs) + "\n"
        subprocess.run(["ip", "netns", "exec", self.r.ns, "python3", "-c",
                        script], input=data, text=True, check=True,
                       timeout=60)


def pre_key_messages(spi_i):
    """Every exchange x flags x message ID with an empty or garbage SK
    payload or none, for an IKE SA that has sent IKE_SA_INIT and holds no
    keys (the 32-byte crash of the report among them)."""
    out = []
    for exch in (34, 35, 36, 37, 0, 255):
        for flags in (0x00, 0x08, 0x20, 0x28):
            for msgid in (0, 1, 0xffffffff):
                for spi_r in (0, 0x1122334455667788):
                    out.append(ike_header(spi_i, spi_r, 46, exch, flags,
                                          msgid, payload(41, b"")))
                    out.append(ike_header(spi_i, spi_r, 46, exch, flags,
                                          msgid,
                                          payload(41, os.urandom(48))))
                    out.append(ike_header(spi_i, spi_r, 0, exch, flags,
                                          msgid, b""))
    return out


def test_pre_key_messages_do_nothing():
    """r1 waits for the answer to its IKE_SA_INIT (r2 runs no vpnd): every
    unauthenticated message shape with r1's SPI leaves r1 alive and its
    attempt as it was."""
    with Topo("hpk") as topo:
        r1 = topo.add_router("r1")
        r2 = topo.add_router("r2")
        topo.add_link(r1, r2, f"{R1}/24", f"{R2}/24")
        r1.start("zebra", "interface vpn0\n ip address 169.254.21.1/30\n"
                 "exit\n")
        r1.start("vpnd", "vpn\n connection peer\n"
                 f"  local-address {R1}\n  remote-address {R2}\n"
                 "  pre-shared-key k-1234567\n  interface vpn0\n"
                 "  connection-mode initiator-only\n exit\nexit\n")
        sa = wait_for(lambda: next((s for s in sas(r1)
                                    if s["state"] == "connecting"), None),
                      15, "r1's IKE_SA_INIT")
        spi_i = int(sa["spiInitiator"], 16)
        msgs = pre_key_messages(spi_i)
        snd = Sender(r2, R2)
        snd.send(msgs, port=500)
        snd.send(msgs, port=4500, marker=True)
        time.sleep(0.5)
        assert r1.alive("vpnd"), "vpnd died"
        now = [s for s in sas(r1) if s["spiInitiator"] == sa["spiInitiator"]]
        assert now and now[0]["state"] == "connecting", now
        assert now[0]["spiResponder"] == sa["spiResponder"], now
        assert conn_json(r1)["state"] == "connecting"


def test_spoofed_init_does_not_keep_tunnel_down():
    """The peer restarts while someone sends IKE_SA_INITs from its address
    every second: the half-open SAs they make do not stop r1 from
    initiating, and the tunnel is back within the retry interval."""
    with Topo("hsi") as topo:
        p = Pair(topo, extra1="  dpd interval 2 timeout 6\n",
                 extra2="  connection-mode responder-only\n")
        wait_established(p.r1)
        stop = threading.Event()
        errors = []

        def spoof():
            snd = Sender(p.r2, R2)
            try:
                while not stop.is_set():
                    snd.send([ike_sa_init(int.from_bytes(os.urandom(8),
                                                         "big"))])
                    stop.wait(1)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=spoof)
        t.start()
        try:
            time.sleep(2)
            # the spoofed half-open SAs exist on r1
            assert any(s["state"] == "half-open" for s in sas(p.r1))
            p.r2.stop("vpnd", sig=9)
            p.r2.start("vpnd", p.conf2)
            # r1 learns the old SA is gone (DPD: 6 s) and initiates again
            # at once (the first retry is 2 s), spoofed half-open SAs or
            # not
            t0 = time.monotonic()
            wait_for(lambda: conn_json(p.r2)["state"] == "established",
                     30, "the tunnel back despite spoofed IKE_SA_INITs")
            took = time.monotonic() - t0
            ok, out = ping(p.r1, "169.254.21.2")
            assert ok, out
            assert p.r1.alive("vpnd")
            print(f"tunnel back after {took:.1f} s")
        finally:
            stop.set()
            t.join(10)
        assert not errors, errors


# -- floods ------------------------------------------------------------------

# The flood generator, run as `python3 -c FLOOD_PY <json>` inside the
# sender's namespace: it makes and sends every datagram itself (one process,
# no pipe per message), paced to `count` datagrams over `seconds`, and
# prints what it sent as JSON. Modes:
#   "random": the shapes of its KINDS table, with the established SA's
#             real SPIs (ikeSpiI, ikeSpiR, espSpi) in some of them;
#   "init":   copies of `template` (hex) with the byte ranges `ranges`
#             ([offset, length]) made random in each: IKE_SA_INIT requests
#             with fresh SPIs, KE and nonce, from one UDP socket that never
#             reads the answers (it does not return COOKIEs).
# In "random" mode a share (rawShare, default half) of the datagrams that
# fit the link MTU leave from the peer's own port 500 or 4500, built with
# their IP and UDP headers and sent through a raw socket: r1's tunnel
# socket is connected to the peer's port 4500 and takes only datagrams
# from there. Everything else leaves a UDP socket bound to the peer's
# address on an ephemeral port (r1's shared sockets; the kernel fragments
# the large ones).
FLOOD_PY = r'''
import json, os, random, socket, struct, sys, time

cfg = json.loads(sys.argv[1])
rnd = random.Random(cfg.get("seed", 1))
src, dst = cfg["src"], cfg["dst"]
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
udp.bind((src, 0))
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
SRC, DST = socket.inet_aton(src), socket.inet_aton(dst)
MARKER = b"\0\0\0\0"
RAW_MAX = 1400
ur = os.urandom


def rint(a, b):
    return rnd.randint(a, b)


def hdr(spi_i, spi_r, nxt, exch, flags, msgid, length, ver=0x20):
    return struct.pack("!QQBBBBII", spi_i, spi_r, nxt, ver, exch, flags,
                       msgid, length & 0xffffffff)


def ike(spi_i, spi_r, exch, flags, msgid, body, nxt=None, length=None,
        ver=0x20):
    if nxt is None:
        nxt = rnd.choice((46, 46, 33, 0, 41, 53, rint(0, 255)))
    if length is None:
        length = rnd.choice((28 + len(body), 28 + len(body), 0, 27, 28,
                             28 + len(body) + rint(1, 64),
                             max(0, 28 + len(body) - rint(1, 64)),
                             rint(0, 0xffffffff)))
    return hdr(spi_i, spi_r, nxt, exch, flags, msgid, length, ver) + body


def rspi():
    return rnd.getrandbits(64)


def sk_body():
    """An SK payload (46; its first inner payload: none, Notify, Delete,
    SK again) with garbage inside, or bare garbage."""
    n = rnd.choice((0, 8, 16, 24, 48, 80, rint(0, 1200)))
    inner = ur(n)
    if rnd.random() < 0.8:
        return struct.pack("!BBH", rnd.choice((0, 0, 41, 42, 46)),
                           rnd.choice((0, 0x80)),
                           rnd.choice((4 + n, 4 + n, rint(0, 0xffff)))) + inner
    return inner


# each kind: () -> (dport, data, raw_ok)
def k_random():
    return (rnd.choice((500, 4500)), ur(rint(0, 2000)), True)


def k_large():
    return (rnd.choice((500, 4500)), ur(rint(2001, 65000)), False)


def k_ike_random():
    exch = rnd.choice((34, 35, 36, 37, 43, rint(0, 255)))
    flags = rnd.choice((0x08, 0x20, 0x28, 0x00, rint(0, 255)))
    msgid = rnd.choice((0, 1, 2, rint(0, 0xffffffff)))
    ver = 0x20 if rnd.random() < 0.9 else rint(0, 255)
    spi_r = 0 if rnd.random() < 0.3 else rspi()
    m = ike(rspi(), spi_r, exch, flags, msgid, sk_body(), ver=ver)
    port = rnd.choice((500, 4500))
    return (port, (MARKER if port == 4500 else b"") + m, True)


def k_ike_real():
    si, sr = cfg["ikeSpiI"], cfg["ikeSpiR"]
    spi_i, spi_r = rnd.choice(((si, sr), (si, sr), (si, 0), (sr, si),
                               (si, rspi()), (rspi(), sr)))
    exch = rnd.choice((37, 37, 36, 35, 34, 43, rint(0, 255)))
    flags = rnd.choice((0x08, 0x00, 0x20, 0x28, rint(0, 255)))
    msgid = rnd.choice((0, 1, 2, 3, 4, 5, 0xffffffff, rint(0, 0xffffffff)))
    if rnd.random() < 0.7:
        # well-formed up to the SK payload's checksum: reaches the
        # integrity check of the established SA
        # (a request with the message ID r1 expects next, 0 or 1 here,
        # or a response to a request it may have out)
        sk = ur(rint(24, 600))
        m = ike(si, sr, exch, rnd.choice((0x00, 0x00, 0x00, 0x20)),
                rnd.choice((0, 0, 0, 1, rint(0, 5))),
                struct.pack("!BBH", rnd.choice((0, 41, 42, 43, 47)), 0,
                            4 + len(sk)) + sk, nxt=46, length=28 + 4 + len(sk))
    else:
        m = ike(spi_i, spi_r, exch, flags, msgid, sk_body(),
                nxt=rnd.choice((46, 46, 46, 53, 0)))
    port = 4500 if rnd.random() < 0.8 else 500
    return (port, (MARKER if port == 4500 else b"") + m, True)


def k_esp_real():
    seq = rnd.choice((rint(0, 64), rint(0, 100000), rint(0, 0xffffffff),
                      0xffffffff, 0))
    body = ur(rnd.choice((0, 1, 8, 15, 16, 24, 32, rint(0, 1400))))
    return (4500, struct.pack("!II", cfg["espSpi"], seq) + body, True)


def k_esp_short():
    return (4500, struct.pack("!I", cfg["espSpi"])[:rint(1, 4)] +
            ur(rint(0, 4)), True)


def k_esp_random():
    spi = rnd.choice((rint(1, 255), rint(256, 0xffffffff)))
    return (4500, struct.pack("!II", spi, rint(0, 0xffffffff)) +
            ur(rint(0, 1400)), True)


def k_keepalive():
    return (4500, b"\xff", True)


def k_marker():
    return (4500, MARKER, True)


def k_truncated():
    m = hdr(rnd.choice((cfg["ikeSpiI"], rspi())),
            rnd.choice((cfg["ikeSpiR"], 0)), 46, rnd.choice((34, 35, 36, 37)),
            rnd.choice((0x08, 0x20, 0x00)), rint(0, 3), 28)[:rint(0, 27)]
    port = rnd.choice((500, 4500))
    return (port, (MARKER if port == 4500 else b"") + m, True)


KINDS = {"random": (k_random, 14), "large": (k_large, 1),
         "ikeRandom": (k_ike_random, 15), "ikeReal": (k_ike_real, 20),
         "espReal": (k_esp_real, 20), "espShort": (k_esp_short, 3),
         "espRandom": (k_esp_random, 6), "keepalive": (k_keepalive, 4),
         "marker": (k_marker, 4), "truncated": (k_truncated, 8)}


def make_init():
    m = bytearray(TEMPLATE)
    for off, n in cfg["ranges"]:
        m[off:off + n] = ur(n)
    return (500, bytes(m), False)


if cfg["mode"] == "init":
    TEMPLATE = bytes.fromhex(cfg["template"])
    names, weights, makers = ["init"], [1], [make_init]
else:
    names = list(KINDS)
    makers = [KINDS[n][0] for n in names]
    weights = [KINDS[n][1] for n in names]

count, seconds = cfg["count"], cfg["seconds"]
raw_share = cfg.get("rawShare", 0.5)
sent = {n: 0 for n in names}
sent_raw = errors = 0
t0 = time.monotonic()
for i in range(count):
    if i % 50 == 0:
        ahead = t0 + seconds * i / count - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    j = rnd.choices(range(len(names)), weights)[0]
    dport, data, raw_ok = makers[j]()
    try:
        if raw_ok and len(data) <= RAW_MAX and rnd.random() < raw_share:
            # the peer's own port: 4500 -> r1's connected tunnel socket
            u = struct.pack("!HHHH", dport, dport, 8 + len(data), 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), 0,
                             0, 64, 17, 0, SRC, DST)
            raw.sendto(ip + u + data, (dst, 0))
            sent_raw += 1
        else:
            udp.sendto(data, (dst, dport))
        sent[names[j]] += 1
    except OSError:
        errors += 1
print(json.dumps({"sent": sum(sent.values()), "kinds": sent,
                  "raw": sent_raw, "errors": errors,
                  "elapsed": round(time.monotonic() - t0, 2)}))
'''


class Flood:
    """FLOOD_PY in router r's namespace, in the background."""

    def __init__(self, r, **cfg):
        self.r = r
        self.cfg = dict(cfg)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.r.ns, "python3", "-c", FLOOD_PY,
             json.dumps(self.cfg)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout):
        """What was sent (FLOOD_PY's JSON); the process is killed first if
        it is still running after `timeout` seconds."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        assert self.proc.returncode == 0, f"flood failed: {err[-2000:]}"
        return json.loads(out)

    def kill(self):
        if self.running():
            self.proc.kill()
        if self.proc is not None:
            self.proc.communicate()


class Ping:
    """`count` echo requests every `interval` s from router r, in the
    background."""

    def __init__(self, r, dst, count, interval=0.02):
        self.r, self.dst, self.count, self.interval = r, dst, count, interval
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.r.ns, "ping", "-q", "-n",
             "-c", str(self.count), "-i", str(self.interval), "-W", "1",
             self.dst], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        return self

    def result(self, timeout):
        """(transmitted, received, ping's output)."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        assert m, out
        return int(m.group(1)), int(m.group(2)), out


def rss_kb(pid):
    """VmRSS of a process, in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ValueError(f"no VmRSS for {pid}")


class Poller:
    """Calls fn() every `interval` s in a thread and keeps every result
    (an exception stops it)."""

    def __init__(self, fn, interval):
        self.fn, self.interval = fn, interval
        self.values = []
        self.error = None
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            while not self._stop.is_set():
                self.values.append(self.fn())
                self._stop.wait(self.interval)
        except Exception as e:  # noqa: BLE001 - kept for the test
            self.error = e

    def start(self):
        self._t.start()
        return self

    def stop(self):
        """The values; what stopped it early, if anything, is in .error
        (checked by the test after its own assertions on vpnd)."""
        self._stop.set()
        self._t.join(10)
        return self.values


def ike_stats(r):
    """`show vpn ike statistics json`: the IKE engine's counters of
    unauthenticated input (and its defences, under "dosProtection")."""
    return json.loads(r.cmd("vpnd", "show vpn ike statistics json"))


def grown(before, after):
    """The counters that changed between two ike_stats(), by how much."""
    return {k: v - before.get(k, 0) for k, v in after.items()
            if isinstance(v, int) and not isinstance(v, bool) and
            v != before.get(k, 0)}


def established_sa(r):
    est = [s for s in sas(r) if s["state"] == "established"]
    assert len(est) == 1, est
    return est[0]


def sa_ids(sa):
    """What a rekey or a new IKE SA would change."""
    return (sa["spiInitiator"], sa["spiResponder"],
            sorted((c["spiIn"], c["spiOut"]) for c in sa["childSas"]))


def child_drops(sa):
    return sum(c[k] for c in sa["childSas"]
               for k in ("dropReplay", "dropIntegrity", "dropMalformed",
                         "dropOther"))


def test_random_datagram_flood():
    """Some 30000 datagrams from the peer's address in 10 s to r1's ports
    500 and 4500 (random bytes, IKE headers with random and with the
    established SA's SPIs and garbage behind them, ESP with the Child SA's
    inbound SPI and garbage, keepalives, lone non-ESP markers, truncated
    headers, datagrams up to 65000 bytes), half of them from the peer's
    ports 500/4500 (r1's tunnel socket), while r1 pings r2 through the
    tunnel every 20 ms: vpnd lives, the SA is the same one (no rekey, no
    new SA), at most 5% of the pings are lost, and the drops are counted."""
    with Topo("hfl") as topo:
        p = Pair(topo, extra2="  connection-mode responder-only\n")
        wait_established(p.r1)
        wait_established(p.r2)
        ok, out = ping(p.r1, "169.254.21.2")
        assert ok, out
        sa0 = established_sa(p.r1)
        child = next(c for c in sa0["childSas"] if c["active"])
        stats0 = ike_stats(p.r1)
        pid = p.r1.daemons["vpnd"]
        rss0 = rss_kb(pid)
        flood = Flood(p.r2, mode="random", src=R2, dst=R1, count=30000,
                      seconds=10, seed=int.from_bytes(os.urandom(4), "big"),
                      ikeSpiI=int(sa0["spiInitiator"], 16),
                      ikeSpiR=int(sa0["spiResponder"], 16),
                      espSpi=int(child["spiIn"], 16))
        pinger = Ping(p.r1, "169.254.21.2", count=450, interval=0.02)
        mem = Poller(lambda: rss_kb(pid), 0.2)
        t0 = time.monotonic()
        try:
            flood.start()
            mem.start()
            time.sleep(0.3)
            pinger.start()
            tx, rx, out = pinger.result(timeout=40)
            sent = flood.wait(timeout=40)
        finally:
            flood.kill()
            rss = mem.stop()
        took = time.monotonic() - t0
        loss = 100.0 * (tx - rx) / tx
        print(f"flood: {sent}; {took:.1f} s")
        print(f"ping through the tunnel: {tx} sent, {rx} received, "
              f"{loss:.1f}% lost")
        print(f"vpnd VmRSS: {rss0} kB before, {max(rss)} kB at most "
              f"during the flood")

        assert p.r1.alive("vpnd"), "vpnd died"
        assert mem.error is None, mem.error
        assert sent["sent"] >= 20000 and sent["errors"] < 100, sent
        # the same IKE SA and Child SA, still established (no rekey, no
        # new SA, no delete)
        sa1 = established_sa(p.r1)
        assert sa_ids(sa1) == sa_ids(sa0), (sa0, sa1)
        assert conn_json(p.r1)["state"] == "established"
        assert conn_json(p.r2)["state"] == "established"
        assert loss <= 5.0, out
        ok, out = ping(p.r1, "169.254.21.2", count=5)
        assert ok, out
        # the ESP garbage with the real SPI was counted against the SA
        esp = child_drops(sa1) - child_drops(sa0)
        print(f"Child SA drops: {esp} (ESP with its SPI sent: "
              f"{sent['kinds']['espReal']})")
        assert esp >= sent["kinds"]["espReal"] // 2, (sa0, sa1)

        # the IKE engine counted what it dropped, by reason: nothing in the
        # flood could be taken, so (nearly) every datagram that reached it
        # is a counted drop
        d = grown(stats0, ike_stats(p.r1))
        dropped = sum(v for k, v in d.items() if k.startswith("drop"))
        print(f"IKE statistics grown by: {d}")
        assert dropped >= 1000, d
        assert dropped >= 0.95 * d["datagramsReceived"], d
        for k in ("dropTooLarge", "dropMalformed", "dropUnknownSpi",
                  "dropUnexpected", "dropIntegrity"):
            assert d.get(k, 0) > 0, (k, d)


def sanitized():
    """vpnd is the ASan build (its allocator keeps freed memory)."""
    return "libasan" in sh(["ldd", VPND], check=False)


# The engine's defences (vpnd/ike/ike.h, struct ike_dos_config): a COOKIE
# is asked for once an address has this many half-open SAs, and its
# IKE_SA_INITs are dropped at the block threshold.
COOKIE_THRESHOLD_IP = 3
BLOCK_THRESHOLD = 5

# VmRSS growth allowed during the IKE_SA_INIT flood. Measured on the plain
# build before the per-address cookie threshold: +1.1 MB at the flood's
# start, flat after it, with the 30 half-open SAs the global threshold let
# in (some 37 kB each with their buffers); 12000 requests kept as state
# would be hundreds of MB, the 1000 of the global half-open limit some
# 37 MB. 8 MB is far above what the thresholds let in and far below state
# kept per request. The ASan build keeps every freed block in its
# quarantine (256 MB by default) before reusing it, so that its RSS grows
# with every allocation made per datagram, state kept or not (+41 MB over
# this flood, still growing at its end): the test caps that vpnd's
# quarantine at ASAN_QUARANTINE_MB, and allows twice that on top of the
# bound for the quarantine, its redzones and shadow memory (measured: a
# plateau at +22 MB with a 16 MB quarantine).
RSS_GROWTH_KB = 8 * 1024
ASAN_QUARANTINE_MB = 16


@contextlib.contextmanager
def asan_quarantine(mb):
    """Daemons started inside get ASan's quarantine capped at `mb` MB
    (later ASAN_OPTIONS flags override earlier ones; a plain build
    ignores the variable)."""
    old = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = ((old + ":") if old else "") + \
        f"quarantine_size_mb={mb}"
    try:
        yield
    finally:
        if old is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = old


def test_init_flood_cookie():
    """12000 IKE_SA_INIT requests in 14 s from the peer's address, with
    fresh SPIs, public values and nonces, from a sender that never returns
    a COOKIE, while r1 pings r2 through the tunnel every 20 ms: vpnd lives,
    at most 5% of the pings are lost, its memory stays bounded, it holds
    no more half-open SAs than the block threshold, and the real peer at
    that same address, reconnecting during the flood, gets in through the
    cookie within 2 s."""
    with Topo("hif") as topo:
        # r2 initiates: it is the legitimate peer that reconnects below
        with asan_quarantine(ASAN_QUARANTINE_MB):
            p = Pair(topo, extra1="  connection-mode responder-only\n")
        wait_established(p.r2)
        wait_established(p.r1)
        ok, out = ping(p.r1, "169.254.21.2")
        assert ok, out
        pid = p.r1.daemons["vpnd"]
        stats0 = ike_stats(p.r1)
        rss0 = rss_kb(pid)
        template, ranges = ike_sa_init_template()
        flood = Flood(p.r2, mode="init", src=R2, dst=R1, count=12000,
                      seconds=14, template=template.hex(), ranges=ranges,
                      seed=int.from_bytes(os.urandom(4), "big"))
        mem = Poller(lambda: rss_kb(pid), 0.1)
        half = Poller(lambda: sum(s["state"] == "half-open"
                                  for s in sas(p.r1)), 0.2)
        pinger = Ping(p.r1, "169.254.21.2", count=400, interval=0.02)
        old = conn_json(p.r2)["ikeSa"]["spiInitiator"]

        def reconnected():
            c = conn_json(p.r2)
            return (c["state"] == "established" and
                    c["ikeSa"]["spiInitiator"] != old)
        t0 = time.monotonic()
        try:
            flood.start()
            mem.start()
            half.start()
            time.sleep(1)
            pinger.start()
            tx, rx, out = pinger.result(timeout=40)
            # the legitimate peer: r2 starts a new IKE SA from the
            # flooded address while the flood goes on
            flooding = flood.running()
            t1 = time.monotonic()
            p.r2.cmd("vpnd", "clear vpn connection peer")
            try:
                wait_for(reconnected, 15, "r2's new IKE SA", interval=0.02)
                joined = time.monotonic() - t1
            except TimeoutError:
                joined = None  # asserted below, after the figures
            flooding = flooding and flood.running()
            sent = flood.wait(timeout=40)
        finally:
            flood.kill()
            rss = mem.stop()
            half_open = half.stop()
        took = time.monotonic() - t0
        loss = 100.0 * (tx - rx) / tx
        grew = max(rss) - rss0
        print(f"flood: {sent}; {took:.1f} s")
        print(f"ping through the tunnel: {tx} sent, {rx} received, "
              f"{loss:.1f}% lost")
        print(f"vpnd VmRSS: {rss0} kB before, {max(rss)} kB at most "
              f"(+{grew} kB), {rss[-1]} kB at the end")
        print("vpnd VmRSS each second (MB): " +
              " ".join(f"{kb / 1024:.1f}" for kb in rss[::10]))
        print(f"half-open SAs on r1: at most {max(half_open)} "
              f"({len(half_open)} samples)")
        print("the real peer " + (f"got in {joined:.2f} s"
                                  if joined is not None
                                  else "did not get in within 15 s") +
              " after `clear vpn connection`")

        assert p.r1.alive("vpnd"), "vpnd died"
        assert mem.error is None and half.error is None, \
            (mem.error, half.error)
        assert sent["sent"] >= 10000 and sent["errors"] < 100, sent
        assert loss <= 5.0, out
        bound = RSS_GROWTH_KB + (2 * ASAN_QUARANTINE_MB * 1024
                                 if sanitized() else 0)
        assert grew <= bound, (rss0, max(rss), bound)
        assert max(half_open) <= BLOCK_THRESHOLD, half_open
        # from `clear` to established: DELETE, IKE_SA_INIT, COOKIE,
        # IKE_SA_INIT with the cookie, IKE_AUTH
        assert joined is not None and joined < 2.0, joined
        assert flooding, "the flood ended before the peer got in"
        assert "peer asked for a cookie" in open(
            p.r2.log_path("vpnd")).read(), \
            "r2 got in without being asked for a cookie"
        wait_established(p.r1, timeout=5)
        ok, out = ping(p.r1, "169.254.21.2", count=5)
        assert ok, out

        # a COOKIE for every IKE_SA_INIT that reached the engine, but for
        # the few that made the half-open SAs and the real peer's
        st = ike_stats(p.r1)
        d = grown(stats0, st)
        print(f"IKE statistics grown by: {d}; defences: "
              f"{st['dosProtection']}")
        assert d["datagramsReceived"] >= sent["sent"] // 2, d
        assert d["cookiesSent"] >= d["datagramsReceived"] - 20, d
        assert st["halfOpen"] <= BLOCK_THRESHOLD, st
