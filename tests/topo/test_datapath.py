"""vpnd's multi-threaded ESP datapath (--dp-threads), between two routers
in network namespaces, each running Debian's zebra and vpnd.

- two tunnels on two workers carry traffic at the same time, and the
  packet work is done by the workers, not by the main thread;
- one worker carries a tunnel in both directions;
- inbound packets outside the Child SA's traffic selectors are dropped
  and counted (dropPolicy, RFC 4301 5.2);
- the datapath allocates nothing per packet (an LD_PRELOAD counter);
- the tunnel follows the peer when a NAT gives it a new port;
- TCP arrives byte for byte with TUN offloads (segmentation and
  coalescing in vpnd) and without.
"""
import json
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

import iperf as iperf_lib
from sas import SpiWatch, unknown_spi_drops
from topo import BUILD, VPND, Topo, sh, wait_for

PSK = "datapath-test-key-9"
HAVE_IPERF = shutil.which("iperf3") is not None


def conn_block(name, local, remote, ifname, extra=""):
    """One connection of vpnd.conf."""
    return (f" connection {name}\n  local-address {local}\n"
            f"  remote-address {remote}\n  pre-shared-key {PSK}\n"
            f"  interface {ifname}\n{extra} exit\n")


def vpnd_conf(*conns, policies=""):
    return "vpn\n" + policies + "".join(conns) + "exit\n"


def sa_list(r):
    return json.loads(r.cmd("vpnd", "show vpn sa json"))["ikeSas"]


def tunnel_of(r, conn):
    """The established IKE SA of a connection that carries a tunnel."""
    for s in sa_list(r):
        if s["connection"] == conn and s["state"] == "established" \
                and s.get("childSas"):
            return s
    return None


def wait_tunnel(r, conn, timeout=25):
    return wait_for(lambda: tunnel_of(r, conn), timeout,
                    f"{conn} established with a Child SA on {r.name}")


def children(r, conn):
    """Child SAs of a connection, over all its IKE SAs (both sides may
    have initiated at once)."""
    out = {}
    for s in sa_list(r):
        if s["connection"] == conn:
            for c in s.get("childSas", []):
                out[c["spiIn"]] = c
    return list(out.values())


def ping(r, dst, src=None, count=3, timeout=15):
    cmd = ["ip", "netns", "exec", r.ns, "ping", "-n", "-c", str(count),
           "-i", "0.2", "-W", "2", dst]
    if src:
        cmd[6:6] = ["-I", src]
    res = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=timeout)
    return res.returncode == 0, res.stdout + res.stderr


def threads(pid):
    """name -> CPU ticks (user + system) of each thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            continue
        key = name if name.startswith("vpnd-dp") else \
            ("main" if tid == str(pid) else name)
        out[key] = out.get(key, 0) + ticks
    return out


def iperf(client, server, addr, port, seconds, result):
    """Bytes per second of an iperf3 transfer into result[addr] (or the
    exception, reported by the caller)."""
    try:
        result[addr] = iperf_lib.transfer(client, server, addr, seconds,
                                          port=port, interval=1).bytes
    except Exception as e:  # noqa: BLE001 - reported by the caller
        result[addr] = e


class TwoTunnels:
    """r1 and r2 joined by one veth carrying two address pairs; one
    connection (and tunnel interface) per pair."""

    def __init__(self, topo, extra_args=(), preload=None, esp_lifetime=None):
        self.r1 = topo.add_router("r1")
        self.r2 = topo.add_router("r2")
        a_if, b_if = topo.add_link(self.r1, self.r2, "192.0.2.1/24",
                                   "192.0.2.2/24")
        self.r1.exec(["ip", "addr", "add", "198.51.100.1/24", "dev", a_if])
        self.r2.exec(["ip", "addr", "add", "198.51.100.2/24", "dev", b_if])
        for r, n in ((self.r1, 1), (self.r2, 2)):
            r.start("zebra", f"interface vpn0\n ip address 169.254.21.{n}/30\n"
                    f"exit\ninterface vpn1\n ip address 169.254.22.{n}/30\n"
                    "exit\n")
        pol, use = "", ""
        if esp_lifetime:
            pol = (" ipsec-policy short\n  proposal aes256gcm16\n"
                   f"  lifetime {esp_lifetime}\n exit\n")
            use = "  ipsec-policy short\n"
        self.c1 = vpnd_conf(
            conn_block("t0", "192.0.2.1", "192.0.2.2", "vpn0", use),
            conn_block("t1", "198.51.100.1", "198.51.100.2", "vpn1", use),
            policies=pol)
        self.c2 = vpnd_conf(
            conn_block("t0", "192.0.2.2", "192.0.2.1", "vpn0", use),
            conn_block("t1", "198.51.100.2", "198.51.100.1", "vpn1", use),
            policies=pol)
        env = {}
        if preload:
            env = preload
        self.start(self.r2, self.c2, extra_args, env)
        self.start(self.r1, self.c1, extra_args, env)

    @staticmethod
    def start(r, conf, extra_args, env):
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            r.start("vpnd", conf, extra=extra_args)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.mark.skipif(not HAVE_IPERF, reason="iperf3 missing")
def test_two_tunnels_two_workers():
    with Topo("dp2") as topo:
        p = TwoTunnels(topo, extra_args=("--dp-threads", "2"))
        for r in (p.r1, p.r2):
            for c in ("t0", "t1"):
                wait_tunnel(r, c)
        # each tunnel on its own worker, both directions on that worker
        workers = {}
        for c in ("t0", "t1"):
            s = tunnel_of(p.r1, c)
            assert s["txWorker"] == s["rxWorker"], s
            assert s["espOwnSocket"], s
            workers[c] = s["txWorker"]
        assert sorted(workers.values()) == [0, 1], workers
        pid = p.r1.daemons["vpnd"]
        names = set(threads(pid))
        assert {"vpnd-dp0", "vpnd-dp1"} <= names, names
        assert "vpnd-dp2" not in names, names
        wait_for(lambda: ping(p.r1, "169.254.21.2", count=1)[0], 15,
                 "ping through vpn0")
        wait_for(lambda: ping(p.r1, "169.254.22.2", count=1)[0], 15,
                 "ping through vpn1")

        before = threads(pid)
        out0 = sum(c["packetsOut"] for c in children(p.r1, "t0"))
        out1 = sum(c["packetsOut"] for c in children(p.r1, "t1"))
        res = {}
        jobs = [threading.Thread(target=iperf, args=(
            p.r1, p.r2, addr, port, 6, res)) for addr, port in
            (("169.254.21.2", 5301), ("169.254.22.2", 5302))]
        for j in jobs:
            j.start()
        for j in jobs:
            j.join(60)
        after = threads(pid)
        for addr in ("169.254.21.2", "169.254.22.2"):
            iv = res.get(addr)
            assert isinstance(iv, list), f"iperf3 to {addr}: {iv!r}"
            # both ran at the same time: every second of both carried data
            assert len(iv) >= 5 and all(b > 0 for b in iv), \
                f"iperf3 to {addr}: bytes per second {iv}"
        d0 = sum(c["packetsOut"] for c in children(p.r1, "t0")) - out0
        d1 = sum(c["packetsOut"] for c in children(p.r1, "t1")) - out1
        assert d0 > 1000 and d1 > 1000, (d0, d1)
        # the packet work was on both workers, not on the main thread
        used = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        assert used.get("vpnd-dp0", 0) > 0 and used.get("vpnd-dp1", 0) > 0, \
            f"CPU ticks per thread during the transfer: {used}"
        work = used["vpnd-dp0"] + used["vpnd-dp1"]
        assert used.get("main", 0) * 4 < work, \
            f"main thread busy during the transfer: {used}"
        for r in (p.r1, p.r2):
            for c in ("t0", "t1"):
                for ch in children(r, c):
                    assert ch["dropIntegrity"] == 0 and \
                        ch["dropReplay"] == 0 and ch["dropPolicy"] == 0, ch


def test_one_worker():
    with Topo("dp1") as topo:
        p = TwoTunnels(topo, extra_args=("--dp-threads", "1"))
        for c in ("t0", "t1"):
            s = wait_tunnel(p.r1, c)
            assert s["txWorker"] == 0 and s["rxWorker"] == 0, s
        names = set(threads(p.r1.daemons["vpnd"]))
        assert "vpnd-dp0" in names and "vpnd-dp1" not in names, names
        for dst in ("169.254.21.2", "169.254.22.2"):
            wait_for(lambda: ping(p.r1, dst, count=1)[0], 15,
                     f"ping {dst}")
            ok, out = ping(p.r1, dst, count=5)
            assert ok, out
        for c in ("t0", "t1"):
            ch = children(p.r1, c)
            assert sum(x["packetsIn"] for x in ch) >= 5, ch
            assert sum(x["packetsOut"] for x in ch) >= 5, ch
        text = p.r1.cmd("vpnd", "show vpn sa")
        assert "datapath workers tx 0 rx 0" in text, text
        assert "policy 0" in text, text


def test_split_directions():
    """--dp-split: a tunnel's RX runs on another worker than its TX."""
    with Topo("dps") as topo:
        p = TwoTunnels(topo, extra_args=("--dp-threads", "2",
                                         "--dp-split"))
        s = wait_tunnel(p.r1, "t0")
        assert s["txWorker"] != s["rxWorker"], s
        wait_for(lambda: ping(p.r1, "169.254.21.2", count=1)[0], 15,
                 "ping through vpn0")
        ok, out = ping(p.r1, "169.254.21.2", count=5)
        assert ok, out


# A TCP receiver and a sender in a namespace: the sha256 of what arrived,
# and of what was sent (seeded random bytes).
RECV_PY = """
import hashlib, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
"""
SEND_PY = """
import hashlib, random, socket, sys
rnd = random.Random(int(sys.argv[3]))
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
h, left = hashlib.sha256(), int(sys.argv[4])
while left:
    b = rnd.randbytes(min(left, 1 << 16))
    c.sendall(b)
    h.update(b)
    left -= len(b)
c.close()
print(int(sys.argv[4]), h.hexdigest(), flush=True)
"""


def tcp_copy(src, dst, dst_addr, port, seed, size):
    """size seeded random bytes over TCP from router src to dst_addr on
    router dst; returns (sent, received), each (bytes, sha256)."""
    rcv = subprocess.Popen(["ip", "netns", "exec", dst.ns, "python3", "-c",
                            RECV_PY, dst_addr, str(port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert rcv.stdout.readline().strip() == "listening"
        snd = subprocess.run(["ip", "netns", "exec", src.ns, "python3",
                              "-c", SEND_PY, dst_addr, str(port), str(seed),
                              str(size)], capture_output=True, text=True,
                             timeout=120)
        assert snd.returncode == 0, snd.stderr
        got = rcv.communicate(timeout=60)[0].split()
    finally:
        if rcv.poll() is None:
            rcv.kill()
            rcv.wait()
    sent = snd.stdout.split()
    return (int(sent[0]), sent[1]), (int(got[0]), got[1])


@pytest.mark.parametrize("offload", [True, False], ids=["offload", "plain"])
def test_tcp_byte_for_byte(offload):
    """24 MB of random bytes each way at once through one tunnel arrive
    byte for byte, with TUN offloads (the kernel's TCP segments cut by the
    sender's vpnd, the receiver's vpnd merging them into super-packets for
    its kernel) and without (--no-tun-offload). The offloads are in use
    when on: reads cut on both senders, writes merged on both receivers,
    `show vpn sa` names them; off: none of either."""
    extra = () if offload else ("--no-tun-offload",)
    with Topo("dpbb") as topo:
        p = TwoTunnels(topo, extra_args=extra)
        for r in (p.r1, p.r2):
            wait_tunnel(r, "t0")
        wait_for(lambda: ping(p.r1, "169.254.21.2", count=1)[0], 15,
                 "ping through vpn0")
        res = {}

        def copy(name, src, dst, addr, seed):
            res[name] = tcp_copy(src, dst, addr, 5301 + seed, seed,
                                 24 * 1000 * 1000)
        th = [threading.Thread(target=copy, args=a) for a in
              (("ab", p.r1, p.r2, "169.254.21.2", 1),
               ("ba", p.r2, p.r1, "169.254.21.1", 2))]
        for t in th:
            t.start()
        for t in th:
            t.join(150)
        for name in ("ab", "ba"):
            sent, got = res[name]
            assert got == sent, (name, sent, got)
        for r in (p.r1, p.r2):
            s = tunnel_of(r, "t0")
            text = r.cmd("vpnd", "show vpn sa")
            if offload:
                assert s["tunOffloads"].startswith("csum tso4 tso6"), s
                assert s["tunTsoReads"] > 0 and s["tunGroWrites"] > 0, s
                assert "TUN offloads: csum tso4 tso6" in text, text
            else:
                assert s["tunOffloads"] == "none", s
                assert s["tunTsoReads"] == 0 and s["tunGroWrites"] == 0, s
            assert s["dropTunRead"] == 0 and s["dropTunWrite"] == 0, s


def test_traffic_selector_policy():
    """Narrowed selectors: a packet from outside them is dropped by the
    receiver and counted as dropPolicy; one from inside passes."""
    ts1 = "  traffic-selector local 10.1.0.0/24 remote 10.2.0.0/24\n"
    ts2 = "  traffic-selector local 10.2.0.0/24 remote 10.1.0.0/24\n"
    with Topo("dpts") as topo:
        r1 = topo.add_router("r1")
        r2 = topo.add_router("r2")
        topo.add_link(r1, r2, "192.0.2.1/24", "192.0.2.2/24")
        r1.exec(["ip", "addr", "add", "10.1.0.1/32", "dev", "lo"])
        r2.exec(["ip", "addr", "add", "10.2.0.1/32", "dev", "lo"])
        r2.exec(["ip", "addr", "add", "10.9.0.1/32", "dev", "lo"])
        for r in (r1, r2):
            r.start("zebra", "")
        r2.start("vpnd", vpnd_conf(conn_block(
            "t0", "192.0.2.2", "192.0.2.1", "vpn0", ts2)))
        r1.start("vpnd", vpnd_conf(conn_block(
            "t0", "192.0.2.1", "192.0.2.2", "vpn0", ts1)))
        wait_tunnel(r1, "t0")
        wait_tunnel(r2, "t0")
        r1.exec(["ip", "route", "add", "10.2.0.0/24", "dev", "vpn0"])
        r1.exec(["ip", "route", "add", "10.9.0.0/24", "dev", "vpn0"])
        r2.exec(["ip", "route", "add", "10.1.0.0/24", "dev", "vpn0"])
        wait_for(lambda: ping(r2, "10.1.0.1", src="10.2.0.1",
                              count=1)[0], 15, "ping inside the selectors")
        # (r2 may also send IPv6 neighbour discovery into the tunnel: the
        # selectors are IPv4 only, so r1 drops it too)
        before = sum(c["dropPolicy"] for c in children(r1, "t0"))
        ok, out = ping(r2, "10.1.0.1", src="10.2.0.1", count=3)
        assert ok, out
        # from 10.9.0.1: r2 sends it (route-based), r1 must refuse it
        ok, out = ping(r2, "10.1.0.1", src="10.9.0.1", count=3)
        assert not ok, f"packets outside the selectors were delivered: {out}"
        drops = sum(c["dropPolicy"] for c in children(r1, "t0"))
        assert drops >= before + 3, (before, children(r1, "t0"))
        conn = json.loads(r1.cmd("vpnd", "show vpn connection t0 json"))[
            "connections"]["t0"]
        assert sum(c["dropPolicy"] for c in conn["ikeSa"]["childSas"]) \
            >= 3, conn
        text = r1.cmd("vpnd", "show vpn connection t0")
        shown = [int(n) for n in re.findall(r"policy (\d+)", text)]
        assert sum(shown) >= 3, text


def preload_lib():
    path = os.path.join(BUILD, "tests", "unit", "esp",
                        "libdp_malloc_count.so")
    if not os.path.exists(path):
        return None, f"no {path} (build the tests)"
    libs = sh(["ldd", VPND], check=False)
    if "libasan" in libs or "libtsan" in libs:
        return None, "sanitizer build: malloc is the sanitizer's"
    return path, ""


@pytest.mark.skipif(not HAVE_IPERF, reason="iperf3 missing")
def test_no_allocation_per_packet():
    lib, why = preload_lib()
    if not lib:
        pytest.skip(why)
    with Topo("dpma") as topo:
        out_dir = os.path.join(topo.dir, "malloc")
        os.makedirs(out_dir)
        os.chmod(out_dir, 0o777)  # vpnd runs as user frr
        counts = os.path.join(out_dir, "counts")
        p = TwoTunnels(topo, extra_args=("--dp-threads", "2"),
                       preload={"LD_PRELOAD": lib,
                                "VPND_MALLOC_COUNT_FILE": counts})
        wait_tunnel(p.r1, "t0")
        wait_for(lambda: ping(p.r1, "169.254.21.2", count=1)[0], 15,
                 "ping through vpn0")
        res = {}
        iperf(p.r1, p.r2, "169.254.21.2", 5303, 3, res)
        assert isinstance(res["169.254.21.2"], list), res
        packets = sum(c["packetsOut"] + c["packetsIn"]
                      for r in (p.r1, p.r2) for c in children(r, "t0"))
        pids = {r.name: r.daemons["vpnd"] for r in (p.r1, p.r2)}
        for r in (p.r1, p.r2):
            assert r.stop("vpnd"), f"vpnd on {r.name} did not exit"
        seen = {}
        with open(counts) as f:
            for line in f:
                pid, n = line.split()
                seen[int(pid)] = int(n)
        assert packets > 10000, packets
        for name, pid in pids.items():
            assert pid in seen, f"no count from vpnd on {name}: {seen}"
            # a few IKE messages reach the main thread through a worker
            # (one allocation each); packets must not allocate
            assert seen[pid] < 100, \
                f"vpnd on {name}: {seen[pid]} allocations on datapath " \
                f"threads for {packets} packets"


@pytest.mark.skipif(not shutil.which("nft"), reason="nft missing "
                    "(scripts/packages/dp.txt)")
def test_nat_port_change():
    """r2 behind a NAT that changes its port: r1's tunnel follows the
    authenticated ESP to the new port, and traffic goes on both ways."""
    with Topo("dpnat") as topo:
        r1 = topo.add_router("r1")
        nat = topo.add_router("nat")
        r2 = topo.add_router("r2")
        _, nat_pub = topo.add_link(r1, nat, "192.0.2.1/24", "192.0.2.254/24")
        nat_priv, _ = topo.add_link(nat, r2, "10.0.0.1/24", "10.0.0.2/24")
        nat.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for k in ("nf_conntrack_udp_timeout", "nf_conntrack_udp_timeout_stream"):
            nat.exec(["sysctl", "-qw", f"net.netfilter.{k}=2"], check=False)
        r2.exec(["ip", "route", "add", "default", "via", "10.0.0.1"])

        def snat(port):
            nat.exec(["nft", "-f", "-"], input=f"""
flush ruleset
table ip nat {{
  chain post {{
    type nat hook postrouting priority 100;
    oifname "{nat_pub}" ip protocol udp snat to 192.0.2.254:{port}
    oifname "{nat_pub}" masquerade
  }}
}}
""")
        snat(41000)
        ids = "  local-id r2.example\n  remote-id 192.0.2.1\n"
        dpd = "  dpd interval 60\n"
        r1.start("zebra", "interface vpn0\n ip address 169.254.21.1/30\nexit\n")
        r2.start("zebra", "interface vpn0\n ip address 169.254.21.2/30\nexit\n")
        r1.start("vpnd", vpnd_conf(conn_block(
            "t0", "192.0.2.1", "192.0.2.254", "vpn0",
            "  local-id 192.0.2.1\n  remote-id r2.example\n" + dpd +
            "  connection-mode responder-only\n")))
        r2.start("vpnd", vpnd_conf(conn_block(
            "t0", "10.0.0.2", "192.0.2.1", "vpn0", ids + dpd +
            "  connection-mode initiator-only\n")))
        s = wait_tunnel(r1, "t0")
        wait_for(lambda: ping(r2, "169.254.21.1", count=1)[0], 15,
                 "ping through the NAT")
        s = tunnel_of(r1, "t0")
        assert s["espRemoteAddress"] == "192.0.2.254" and \
            s["espRemotePort"] == 41000, s

        # new mapping: the old one expires while nothing is sent
        snat(42000)
        time.sleep(4)

        def moved():
            ping(r2, "169.254.21.1", count=1, timeout=5)
            t = tunnel_of(r1, "t0")
            if t and t["espRemotePort"] == 42000:
                return t
            # a NAT keepalive may have kept the old mapping: let it
            # expire again
            time.sleep(3)
            return None
        s = wait_for(moved, 30, "r1's tunnel to follow the new port")
        assert s["espOwnSocket"], s
        # both directions work through the new mapping
        ok, out = ping(r1, "169.254.21.2", count=3)
        assert ok, out
        ok, out = ping(r2, "169.254.21.1", count=3)
        assert ok, out
        log = open(r1.log_path("vpnd")).read()
        assert "peer moved to 192.0.2.254 port 42000" in log


def test_rekey_loses_nothing():
    """Child SAs rekeyed every few seconds (lifetime 3 s) while pings flow
    both ways through both workers' tunnels for 8 s: each tunnel rekeys
    at least twice on both routers (new Child SA SPIs), and not one ping
    is lost (make-before-break, and an SA is wiped only once no worker
    uses it)."""
    with Topo("dprk") as topo:
        p = TwoTunnels(topo, extra_args=("--dp-threads", "2"),
                       esp_lifetime=3)
        for r in (p.r1, p.r2):
            for c in ("t0", "t1"):
                wait_tunnel(r, c)
        for dst in ("169.254.21.2", "169.254.22.2"):
            wait_for(lambda: ping(p.r1, dst, count=1)[0], 15, f"ping {dst}")
        res = {}
        errors = []

        def flood(dst):
            try:
                r = subprocess.run(["ip", "netns", "exec", p.r1.ns, "ping",
                                    "-n", "-q", "-c", "400", "-i", "0.02",
                                    "-W", "2", dst], capture_output=True,
                                   text=True, timeout=60)
                res[dst] = r.stdout + r.stderr
            except BaseException as e:  # noqa: BLE001 - re-raised below
                errors.append(e)
        dsts = ("169.254.21.2", "169.254.22.2")
        jobs = [threading.Thread(target=flood, args=(d,)) for d in dsts]
        w = SpiWatch([p.r1, p.r2]).start()
        for j in jobs:
            j.start()
        for j in jobs:
            j.join(70)
        w.stop()
        assert not any(j.is_alive() for j in jobs), "a ping flood hung"
        if errors:
            raise errors[0]
        for r in (p.r1, p.r2):
            for c in ("t0", "t1"):
                nc, _ = w.assert_rekeys(r, c, child=2)
                print(f"{r.name} {c}: {len(nc)} new Child SAs")
        for r in (p.r1, p.r2):
            assert unknown_spi_drops(r) == 0, \
                f"{r.name}: ESP for SPIs it did not have while rekeying"
        for dst in dsts:
            out = res[dst]
            assert "400 packets transmitted, 400 received" in out, \
                f"ping {dst}: {out}"
