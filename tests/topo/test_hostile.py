"""Hostile input from the peer's own address, in namespaces: messages that
no key protects must not crash vpnd, change a connection or keep a tunnel
down. The sender is a plain UDP socket in the peer's namespace, bound to
the peer's address (what any host on the path could send).

vpnd under ASan + UBSan in the sanitizer pass of scripts/test: a crash or
a sanitizer report fails the run.
"""
import json
import os
import socket
import struct
import subprocess
import threading
import time

from topo import Topo, wait_for
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


def ike_sa_init(spi_i):
    """An IKE_SA_INIT request vpnd's default policy accepts
    (AES-GCM-256, PRF SHA2-256, x25519), with a random public value."""
    trans = (transform(False, 1, 20, 256) + transform(False, 2, 5) +
             transform(True, 4, 31))
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(trans), 1, 1, 0, 3) + trans
    sa = payload(34, prop)
    ke = payload(40, struct.pack("!HH", 31, 0) + os.urandom(32))
    nonce = payload(0, os.urandom(32))
    return ike_header(spi_i, 0, 33, 34, 0x08, 0, sa + ke + nonce)


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
