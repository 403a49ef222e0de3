#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed inputs of fuzz_ike_engine and fuzz_proposal into
tests/fuzz/ike/corpus (engine_*, proposal_*). The files are committed; run
this again after changing the input layout (see fuzz_ike_engine.c).

    tests/fuzz/ike/gen_engine_corpus.py [DIR]
"""
import os
import struct
import sys

# --- payloads (RFC 7296 section 3) ------------------------------------
SA, KE, IDI, IDR, AUTH, NONCE, N, D, V, TSI, TSR, CP = (
    33, 34, 35, 36, 39, 40, 41, 42, 43, 44, 45, 47)
IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL = 34, 35, 36, 37


def chain(*pls):
    """[(type, body, critical?)...] -> (first type, bytes)."""
    out = b""
    for i, pl in enumerate(pls):
        typ, body = pl[0], pl[1]
        crit = 0x80 if len(pl) > 2 and pl[2] else 0
        nxt = pls[i + 1][0] if i + 1 < len(pls) else 0
        out += struct.pack(">BBH", nxt, crit, 4 + len(body)) + body
    return (pls[0][0] if pls else 0), out


def transform(typ, tid, keylen=0, last=False):
    attrs = struct.pack(">HH", 0x800E, keylen) if keylen else b""
    return struct.pack(">BBHBBH", 0 if last else 3, 0, 8 + len(attrs), typ,
                       0, tid) + attrs


def proposal(num, proto, spi, trans, last=True):
    body = b"".join(transform(*t, last=(i == len(trans) - 1))
                    for i, t in enumerate(trans))
    return struct.pack(">BBHBBBB", 0 if last else 2, 0, 8 + len(spi) + len(body),
                       num, proto, len(spi), len(trans)) + spi + body


ESP_GCM = [(1, 20, 256), (5, 0)]
ESP_CBC = [(1, 12, 128), (3, 12), (5, 0)]
IKE_GCM = [(1, 20, 256), (2, 5), (4, 31)]


def sa_esp(spi=0xc0000001, trans=ESP_GCM):
    return (SA, proposal(1, 3, struct.pack(">I", spi), trans))


def sa_ike(spi=0x1122334455667788, trans=IKE_GCM):
    return (SA, proposal(1, 1, struct.pack(">Q", spi), trans))


def ts(*ranges):
    body = struct.pack(">B3x", len(ranges))
    for proto, sp, ep, a, b in ranges:
        body += struct.pack(">BBHHH", 7, proto, 16, sp, ep) + bytes(a) + bytes(b)
    return body


ANY = (0, 0, 65535, [0, 0, 0, 0], [255, 255, 255, 255])
NET = (0, 0, 65535, [10, 1, 0, 0], [10, 1, 255, 255])


def ident(typ, data):
    return struct.pack(">B3x", typ) + data


def notify(ntype, data=b"", proto=0, spi=b""):
    return (N, struct.pack(">BBH", proto, len(spi), ntype) + spi + data)


def delete(proto, spis=(), spisize=4):
    return (D, struct.pack(">BBH", proto, spisize, len(spis)) +
            b"".join(struct.pack(">I", s) for s in spis))


def before(pl, nxt):
    """One payload, whole, whose next-payload field is nxt: to insert at
    offset 0 of a plaintext chain that begins with a payload of type
    nxt."""
    body = chain(pl)[1]
    return bytes([nxt]) + body[1:]


NONCE32 = (NONCE, bytes(range(32)))
KE_X25519 = (KE, struct.pack(">HH", 31, 0) + bytes(range(1, 33)))

# --- records (see fuzz_ike_engine.c) ------------------------------------
A_, B_ = 0, 1


def ctl(target, op, port=1, tick=0, sa=0):
    return bytes([target | port << 1 | tick << 2 | op << 4 | sa << 7])


def raw(target, data, **kw):
    return ctl(target, 0, **kw) + struct.pack(">H", len(data)) + data


def stamped(target, data, **kw):
    return ctl(target, 4, **kw) + struct.pack(">H", len(data)) + data


def sealed(target, exch, flags, first_chain, delta=0, **kw):
    first, body = first_chain
    data = bytes([exch, flags, delta & 0xff, first]) + body
    return ctl(target, 0, **kw) + struct.pack(">H", len(data)) + data


def splice(target, off=0, dele=0, ins=b"", first=None, **kw):
    mode = 0 if first is None else 1 | (first - 32) << 1
    data = bytes([mode]) + struct.pack(">HB", off, dele) + ins
    return ctl(target, 4, **kw) + struct.pack(">H", len(data)) + data


def deliver(n=8, tick=0):
    return ctl(0, 5, port=0, tick=tick) + bytes([(n - 1) & 7])


def drop():
    return ctl(0, 6, port=0)


def oper(target, op, sa=0, tick=0):
    return ctl(target, 7, sa=sa, tick=tick) + bytes([op])


def tick(step):
    return deliver(1, tick=step)


def sel(state, known=False, cookie=False, algs=0, v6=False):
    return bytes([state | known << 3 | cookie << 4 | algs << 5 | v6 << 7])


def hdr(spi_i, spi_r, first, exch, flags, msgid, body):
    return struct.pack(">QQBBBBII", spi_i, spi_r, first, 0x20, exch, flags,
                       msgid, 28 + len(body)) + body


AUTH_REQ = chain((IDI, ident(1, bytes([192, 0, 2, 1]))),
                 (AUTH, struct.pack(">B3x", 2) + bytes(32)),
                 sa_esp(), (TSI, ts(ANY)), (TSR, ts(ANY)))
AUTH_RESP = chain((IDR, ident(1, bytes([192, 0, 2, 2]))),
                  (AUTH, struct.pack(">B3x", 2) + bytes(32)),
                  sa_esp(), (TSI, ts(ANY)), (TSR, ts(ANY)))
CHILD_NEW = chain(sa_esp(), NONCE32, (TSI, ts(ANY)), (TSR, ts(NET)))
CHILD_REKEY = chain(notify(16393, proto=3, spi=struct.pack(">I", 0xa0000001)),
                    sa_esp(), NONCE32, (TSI, ts(ANY)), (TSR, ts(ANY)))
IKE_REKEY = chain(sa_ike(), NONCE32, KE_X25519)
CCSA_RESP = chain(sa_esp(0xc0000002), NONCE32, (TSI, ts(ANY)),
                  (TSR, ts(ANY)))

seeds = {}

# Every state, honest traffic only (each algorithm set, cookies once).
for s in range(8):
    for algs in range(4):
        seeds[f"engine_s{s}_a{algs}_settle"] = sel(s, algs=algs) + deliver(8)
    seeds[f"engine_s{s}_v6_settle"] = sel(s, v6=True) + deliver(8)
    seeds[f"engine_s{s}_cookie_settle"] = sel(s, cookie=True) + deliver(8)
    seeds[f"engine_s{s}_timers"] = (sel(s) + tick(1) + tick(2) + tick(3) +
                                    deliver(8) + tick(3) + tick(3))
    seeds[f"engine_s{s}_drop_retransmit"] = (sel(s) + drop() + tick(2) +
                                             deliver(8))

# Raw mode: the CVE-2019-12312 shape, forged IKE_SA_INIT traffic.
seeds["engine_raw_prekey_info"] = sel(0) + stamped(
    A_, hdr(0, 0, 46, INFORMATIONAL, 0x20, 0, bytes([41, 0, 0, 4])), port=0)
seeds["engine_raw_init_response_forged"] = sel(0) + stamped(
    A_, hdr(0, 0, N, IKE_SA_INIT, 0x20, 0,
            chain(notify(16390, bytes(16)))[1]), port=0)
seeds["engine_raw_init_invalid_ke"] = sel(0) + stamped(
    A_, hdr(0, 0, N, IKE_SA_INIT, 0x20, 0,
            chain(notify(17, struct.pack(">H", 19)))[1]), port=0)
seeds["engine_raw_init_request"] = sel(3) + raw(
    B_, hdr(0x0102030405060708, 0, SA, IKE_SA_INIT, 0x08, 0,
            chain((SA, proposal(1, 1, b"", IKE_GCM)), KE_X25519,
                  NONCE32)[1]), port=0)
seeds["engine_raw_init_request_mismatch"] = sel(3) + raw(
    B_, hdr(0x0102030405060709, 0, SA, IKE_SA_INIT, 0x08, 0,
            chain((SA, proposal(1, 1, b"", [(1, 3), (2, 2), (3, 2),
                                            (4, 14)])),
                  (KE, struct.pack(">HH", 14, 0) + bytes(256)),
                  NONCE32)[1]), port=0)
seeds["engine_raw_init_request_wrong_ke"] = sel(3) + raw(
    B_, hdr(0x010203040506070a, 0, SA, IKE_SA_INIT, 0x08, 0,
            chain((SA, proposal(1, 1, b"", IKE_GCM + [(4, 19)])),
                  (KE, struct.pack(">HH", 19, 0) + bytes(64)),
                  NONCE32)[1]), port=0)
seeds["engine_raw_init_request_stranger"] = sel(3) + ctl(
    B_, 3, port=0) + seeds["engine_raw_init_request"][2:]
seeds["engine_raw_sk_garbage"] = sel(3) + stamped(
    B_, hdr(0, 0, 46, INFORMATIONAL, 0x08, 0,
            bytes([41, 0, 0, 52]) + bytes(48)))

# Known-key mode: hostile plaintext for each exchange in each state.
K = dict(known=True)
seeds["engine_k_auth_req_forged"] = sel(2, **K) + sealed(
    B_, IKE_AUTH, 0x08, AUTH_REQ)
seeds["engine_k_auth_resp_forged"] = sel(2, **K) + sealed(
    A_, 0, 0x20, AUTH_RESP)
seeds["engine_k_auth_splice_same"] = sel(2, **K) + splice(B_) + deliver(8)
seeds["engine_k_auth_splice_notify"] = sel(2, **K) + splice(
    B_, ins=before(notify(16430), IDI), first=N) + deliver(8)
seeds["engine_k_auth_splice_ts"] = sel(2, **K) + splice(
    B_, ins=before((TSI, ts(NET, ANY)), IDI), first=TSI) + deliver(8)
seeds["engine_k_auth_splice_first"] = sel(2, algs=1, **K) + splice(
    B_, first=TSI) + deliver(8)
# A's IKE_AUTH plaintext (algorithm set 0): IDi at 0, IDr 12, AUTH 24,
# N(INITIAL_CONTACT) 64, SA 72 (first transform ID at 94), TSi 108
# (first selector at 116), TSr 188 (first selector at 196).
seeds["engine_k_auth_splice_child_cbc"] = sel(2, **K) + splice(
    B_, off=94, dele=2, ins=b"\x00\x0c") + deliver(8)
seeds["engine_k_auth_splice_tsi_tcp"] = sel(2, **K) + splice(
    B_, off=117, dele=1, ins=b"\x06") + deliver(8)
seeds["engine_k_auth_splice_tsr_narrow"] = sel(2, **K) + splice(
    B_, off=204, dele=8, ins=bytes([10, 1, 2, 0, 10, 1, 2, 255])) + deliver(8)
seeds["engine_k_auth_resp_splice"] = sel(2, **K) + deliver(1) + splice(
    A_, off=40, dele=8, ins=bytes(8))
seeds["engine_k_half_open_auth"] = sel(1, **K) + sealed(
    B_, IKE_AUTH, 0x08, AUTH_REQ)
seeds["engine_k_prekey_plain"] = sel(0, **K) + sealed(
    A_, INFORMATIONAL, 0x20, chain(delete(1, spisize=0)))
seeds["engine_k_init_splice"] = sel(1, **K) + splice(
    A_, ins=before(notify(16390, bytes(8)), SA), first=N)
seeds["engine_k_init_req_splice"] = sel(0, cookie=True, **K) + splice(
    B_, off=12, dele=4, ins=b"\xff\xff\xff\xff") + deliver(8)
for name, t in (("a", A_), ("b", B_)):
    f = 0x08 if t == B_ else 0x00
    seeds[f"engine_k_info_dpd_{name}"] = sel(3, **K) + sealed(
        t, INFORMATIONAL, f, (0, b""))
    seeds[f"engine_k_info_delete_ike_{name}"] = sel(3, **K) + sealed(
        t, INFORMATIONAL, f, chain(delete(1, spisize=0)))
    seeds[f"engine_k_info_delete_esp_{name}"] = sel(3, **K) + sealed(
        t, INFORMATIONAL, f,
        chain(delete(3, (0xa0000001, 0xb0000001, 0x12345678))))
    seeds[f"engine_k_info_notifies_{name}"] = sel(3, **K) + sealed(
        t, INFORMATIONAL, f,
        chain(notify(16384), notify(1), notify(7), notify(44, proto=3,
                                                          spi=bytes(4)),
              (V, b"vpnd-fuzz"), (CP, b"\x01\x00\x00\x00")))
    seeds[f"engine_k_ccsa_child_{name}"] = sel(3, **K) + sealed(
        t, CREATE_CHILD_SA, f, CHILD_NEW) + deliver(8)
    seeds[f"engine_k_ccsa_rekey_child_{name}"] = sel(3, **K) + sealed(
        t, CREATE_CHILD_SA, f, CHILD_REKEY) + deliver(8)
    seeds[f"engine_k_ccsa_rekey_ike_{name}"] = sel(3, **K) + sealed(
        t, CREATE_CHILD_SA, f, IKE_REKEY) + deliver(8)
    seeds[f"engine_k_msgid_ahead_{name}"] = sel(3, **K) + sealed(
        t, INFORMATIONAL, f, (0, b""), delta=1) + sealed(
        t, INFORMATIONAL, f, (0, b""), delta=-1)
seeds["engine_k_v6_ccsa_child"] = sel(3, v6=True, **K) + sealed(
    B_, CREATE_CHILD_SA, 0x08, chain(
        sa_esp(), NONCE32,
        (TSI, struct.pack(">B3x", 1) + struct.pack(">BBHHH", 8, 0, 40, 0, 65535)
         + bytes(16) + b"\xff" * 16),
        (TSR, struct.pack(">B3x", 1) + struct.pack(">BBHHH", 8, 6, 40, 179, 179)
         + bytes([0x20, 1, 0xd, 0xb8] + [0] * 12) + bytes([0x20, 1, 0xd, 0xb8] + [0xff] * 12)))) + deliver(8)
seeds["engine_k_nat_moved"] = sel(3, **K) + ctl(B_, 3) + sealed(
    B_, INFORMATIONAL, 0x08, (0, b""))[1:] + oper(B_, 2) + deliver(8)
seeds["engine_k_rekey_child_resp"] = sel(4, **K) + sealed(
    A_, 0, 0x20, CCSA_RESP)
for nt in (14, 43, 38, 17):
    seeds[f"engine_k_rekey_child_refused_{nt}"] = sel(4, **K) + sealed(
        A_, 0, 0x20, chain(notify(nt, b"\x00\x1f" if nt == 17 else b"")))
    seeds[f"engine_k_rekey_ike_refused_{nt}"] = sel(5, **K) + sealed(
        A_, 0, 0x20, chain(notify(nt, b"\x00\x13" if nt == 17 else b"")))
seeds["engine_k_rekey_child_splice"] = sel(4, algs=1, **K) + splice(
    B_) + deliver(8)
seeds["engine_k_rekey_child_collide"] = sel(4, **K) + oper(B_, 0) + tick(
    1) + deliver(8)
seeds["engine_k_rekey_ike_resp"] = sel(5, **K) + sealed(
    A_, 0, 0x20, chain(sa_ike(0x99), NONCE32, KE_X25519))
seeds["engine_k_rekey_ike_splice"] = sel(5, **K) + splice(
    B_, off=20, dele=1, ins=b"\x00") + deliver(8)
seeds["engine_k_rekey_ike_collide"] = sel(5, **K) + oper(B_, 1) + tick(
    1) + deliver(8)
seeds["engine_k_deleting_resp"] = sel(6, **K) + sealed(
    A_, 0, 0x20, chain(delete(1, spisize=0)), sa=1)
seeds["engine_k_deleting_req"] = sel(6, **K) + sealed(
    A_, CREATE_CHILD_SA, 0x00, CHILD_NEW, sa=1) + sealed(
    A_, INFORMATIONAL, 0x00, chain(delete(1, spisize=0)), sa=1)
seeds["engine_k_deleting_splice"] = sel(6, **K) + splice(B_) + deliver(8)
seeds["engine_k_dpd_resp"] = sel(7, **K) + sealed(
    B_, 0, 0x28, chain(notify(16384)))
seeds["engine_k_dpd_splice"] = sel(7, **K) + splice(
    A_, ins=chain(delete(3, (0xa0000001,)))[1], first=D) + deliver(8)
seeds["engine_k_dpd_splice_delete_ike"] = sel(7, **K) + splice(
    A_, ins=chain(delete(1, spisize=0))[1], first=D) + deliver(8)
seeds["engine_k_conn_down"] = sel(3, **K) + oper(A_, 4) + deliver(8) + oper(
    B_, 5) + deliver(8)

# Proposal strings.
props = [
    "aes256gcm16-prfsha256-x25519", "aes256-sha256-modp2048",
    "aes128-aes192-aes256-sha1-sha256-sha384-sha512-ecp256-ecp384",
    "chacha20poly1305-prfsha512-curve25519", "aes256gcm16-sha384-ecp384",
    "3des-sha-modp1024", "aes256gcm128", "aes128-sha256-x25519-esn-noesn",
    "aes-sha", "aes256gcm16-aes256-sha1", "aes256--sha1", "-",
]
for i, p in enumerate(props):
    seeds[f"proposal_{i:02d}"] = p.encode()

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(d, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {d}")
