"""The deployment scenarios of configs/ as labs of network namespaces.

Each scenario directory, configs/<scenario>/, holds one directory per
router with that router's configuration files: zebra.conf, staticd.conf,
bfdd.conf, bgpd.conf, vpnd.conf (those that exist are started, in that
order). The files are used as they are: they name interfaces (eth0, eth1,
lan0, vpn-...) that the lab creates with those names, and zebra's
configuration gives every interface its address. What is not FRR's lives
here and in configs/README.md: the veth wiring, the hosts behind the sites
(a namespace each, its address and default route), and the few sysctls a
scenario names in a sysctl.conf beside its daemons' files.

    lab = Lab(topo, "two-site")   # namespaces, links, hosts, daemons
    lab.r["site-a"].cmd("bgpd", "show ip bgp")
    lab.ping("h-a", "10.2.0.10")
"""
import json
import os
import re
import signal
import subprocess
import threading

from topo import REPO, wait_for

CONFIGS = os.path.join(REPO, "configs")
DAEMONS = ("zebra", "staticd", "bfdd", "bgpd", "vpnd")

# Wiring of every scenario: routers (each a directory of configs/<name>/),
# underlay and private links (router, ifname, router, ifname), hosts
# (name, router, address/len, gateway) behind a router's lan0, and plain
# namespaces that are not FRR routers ("extra": the internet in between).
LABS = {
    "two-site": dict(
        routers=["site-a", "site-b"],
        links=[("site-a", "eth0", "site-b", "eth0")],
        hosts=[("h-a", "site-a", "10.1.0.10/24", "10.1.0.1"),
               ("h-b", "site-b", "10.2.0.10/24", "10.2.0.1")]),
    "hub-three-sites": dict(
        routers=["hub", "site-1", "site-2", "site-3"],
        links=[("hub", "eth1", "site-1", "eth0"),
               ("hub", "eth2", "site-2", "eth0"),
               ("hub", "eth3", "site-3", "eth0")],
        hosts=[("h-1", "site-1", "10.1.0.10/24", "10.1.0.1"),
               ("h-2", "site-2", "10.2.0.10/24", "10.2.0.1"),
               ("h-3", "site-3", "10.3.0.10/24", "10.3.0.1")]),
    "active-active": dict(
        routers=["site-a", "site-b"],
        links=[("site-a", "eth0", "site-b", "eth0"),
               ("site-a", "eth1", "site-b", "eth1")],
        hosts=[("h-a", "site-a", "10.1.0.10/24", "10.1.0.1"),
               ("h-b", "site-b", "10.2.0.10/24", "10.2.0.1")]),
    "private-link-backup": dict(
        routers=["hub", "site"],
        links=[("hub", "eth0", "site", "eth0"),
               ("hub", "eth1", "site", "eth1")],
        hosts=[("h-hub", "hub", "10.0.0.10/24", "10.0.0.1"),
               ("h-site", "site", "10.1.0.10/24", "10.1.0.1")]),
    "forced-tunnel": dict(
        routers=["hub", "site"],
        extra={"isp": ["198.51.100.1/24", "203.0.113.254/24",
                       "198.18.0.10/32"]},
        links=[("isp", "to-site", "site", "eth0"),
               ("isp", "to-hub", "hub", "eth0")],
        hosts=[("h-hub", "hub", "10.0.0.10/24", "10.0.0.1"),
               ("h-site", "site", "10.1.0.10/24", "10.1.0.1")]),
    "static-routes": dict(
        routers=["site-a", "site-b"],
        links=[("site-a", "eth0", "site-b", "eth0")],
        hosts=[("h-a", "site-a", "10.1.0.10/24", "10.1.0.1"),
               ("h-b", "site-b", "10.2.0.10/24", "10.2.0.1")]),
    "strongswan-two-site": dict(
        routers=["site-a", "site-b"],
        links=[("site-a", "eth0", "site-b", "eth0")],
        hosts=[("h-a", "site-a", "10.1.0.10/24", "10.1.0.1"),
               ("h-b", "site-b", "10.2.0.10/24", "10.2.0.1")]),
}


def conf_path(scenario, router, name):
    return os.path.join(CONFIGS, scenario, router, name)


def read_conf(scenario, router, name, subst=None):
    """A configuration file of configs/<scenario>/<router>/, with the
    given {text: replacement} substitutions applied."""
    with open(conf_path(scenario, router, name)) as f:
        text = f.read()
    for old, new in (subst or {}).items():
        if old not in text:
            raise ValueError(f"{scenario}/{router}/{name}: {old!r} to "
                             f"substitute is not in the file")
        text = text.replace(old, new)
    return text


def sysctls(scenario, router):
    """The key = value lines of a router's sysctl.conf, if it has one."""
    path = conf_path(scenario, router, "sysctl.conf")
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        line = line.split("#")[0].strip()
        if line:
            k, v = (x.strip() for x in line.split("=", 1))
            out.append((k, v))
    return out


class Lab:
    """One scenario's namespaces, links, hosts and daemons in a Topo.

    `conf_dirs` maps a router to another directory of the scenario to load
    its files from (e.g. the vpnd-to-vpnd variant of strongswan-two-site);
    `skip` lists routers whose daemons the caller starts itself."""

    def __init__(self, topo, scenario, conf_dirs=None, skip=(),
                 start=True):
        self.topo = topo
        self.scenario = scenario
        self.spec = LABS[scenario]
        self.conf_dirs = dict(conf_dirs or {})
        self.r = {}
        for name in self.spec["routers"]:
            self.r[name] = topo.add_router(name)
        for name, addrs in self.spec.get("extra", {}).items():
            self.r[name] = topo.add_router(name)
        for a, a_if, b, b_if in self.spec["links"]:
            topo.add_link(self.r[a], self.r[b], a_name=a_if, b_name=b_if)
        for name, addrs in self.spec.get("extra", {}).items():
            self._plain_router(self.r[name], addrs)
        self.h = {}
        for name, router, addr, gw in self.spec["hosts"]:
            self.h[name] = topo.add_host(name, self.r[router], addr, gw)
        for name in self.spec["routers"]:
            for k, v in sysctls(scenario, self.conf_dir(name)):
                self.r[name].exec(["sysctl", "-q", "-w", f"{k}={v}"])
            nft = conf_path(scenario, self.conf_dir(name), "nftables.conf")
            if os.path.exists(nft):
                self.r[name].exec(["nft", "-f", nft])
        if start:
            for name in self.spec["routers"]:
                if name not in skip:
                    self.start(name)

    def _plain_router(self, r, addrs):
        """A namespace that only forwards (the internet between gateways):
        the i-th address goes on the i-th of its links, the rest on lo."""
        ifs = [a_if for a, a_if, b, b_if in self.spec["links"]
               if self.r[a] is r]
        for i, addr in enumerate(addrs):
            dev = ifs[i] if i < len(ifs) else "lo"
            r.exec(["ip", "addr", "add", addr, "dev", dev])
        r.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])

    def conf_dir(self, router):
        return self.conf_dirs.get(router, router)

    def daemons(self, router):
        d = self.conf_dir(router)
        return [x for x in DAEMONS
                if os.path.exists(conf_path(self.scenario, d, f"{x}.conf"))]

    def start(self, router, subst=None):
        """Start the router's daemons from its configuration files."""
        r = self.r[router]
        for daemon in self.daemons(router):
            r.start(daemon, read_conf(self.scenario, self.conf_dir(router),
                                      f"{daemon}.conf",
                                      (subst or {}).get(daemon)))
        return r

    def snapshot(self):
        """What an operator would look at on every router, for a failed
        test's output (keys masked)."""
        out = []
        for name in self.spec["routers"]:
            r = self.r[name]
            for daemon, cmd in (("vpnd", "show vpn connection"),
                                ("bgpd", "show ip bgp summary"),
                                ("bgpd", "show ip bgp"),
                                ("bfdd", "show bfd peers brief"),
                                ("zebra", "show ip route")):
                if daemon not in r.daemons:
                    continue
                try:
                    text = r.cmd(daemon, cmd).rstrip()
                except Exception as e:  # noqa: BLE001 - best effort
                    text = f"({e})"
                out.append(f"--- {name}# {cmd}\n{text}")
        return "\n".join(out)

    # -- what the tests look at -----------------------------------------
    def vpn(self, router, conn):
        out = self.r[router].cmd("vpnd", f"show vpn connection {conn} json")
        return json.loads(out)["connections"][conn]

    def wait_established(self, router, conn, timeout=30):
        wait_for(lambda: self.vpn(router, conn)["state"] == "established",
                 timeout, f"{router}: vpn connection {conn} established")

    def ping(self, host, dst, count=3, interval=0.2, src=None):
        return ping(self.h.get(host) or self.r[host], dst, count, interval,
                    src)


def bgp_peer(r, addr):
    """bgpd's view of one neighbor (show ip bgp neighbors ADDR json)."""
    out = json.loads(r.cmd("bgpd", f"show ip bgp neighbors {addr} json"))
    return out.get(addr, {})


def bgp_established(r, addr):
    return bgp_peer(r, addr).get("bgpState") == "Established"


def wait_bgp(r, addr, timeout=40):
    wait_for(lambda: bgp_established(r, addr), timeout,
             f"{r.name}: BGP session with {addr} Established")


def zebra_routes(r, prefix=None, proto=None):
    """zebra's selected routes: {prefix: [entry]} (show ip route json)."""
    cmd = "show ip route"
    if prefix:
        cmd += f" {prefix}"
    elif proto:
        cmd += f" {proto}"
    with r.vty("zebra") as v:
        status, out = v.cmd(cmd + " json")  # no route: warning and {}
    return json.loads(out or "{}")


def route_summary(r, prefix):
    """'proto via nexthop-interfaces' of zebra's selected route for the
    prefix, e.g. 'bgp via vpn-b', or 'none': what a failure prints."""
    for e in zebra_routes(r, prefix).get(prefix, []):
        if e.get("selected"):
            ifs = sorted({n.get("interfaceName", n.get("ip", "?"))
                          for n in e.get("nexthops", [])
                          if n.get("active")})
            return f"{e['protocol']} via {','.join(ifs)}"
    return "none"


def kernel_route(r, prefix):
    """The kernel's route for exactly `prefix`: 'proto dev[,dev]' or
    'none' (from ip -j route)."""
    out = json.loads(r.exec(["ip", "-j", "route", "show", "exact",
                             prefix]) or "[]")
    if not out:
        return "none"
    e = out[0]
    devs = [e["dev"]] if "dev" in e else sorted(
        n["dev"] for n in e.get("nexthops", []))
    return f"{e.get('protocol', '?')} {','.join(devs)}"


def wait_route(r, prefix, want, timeout=30, where="zebra"):
    """Wait until route_summary (or kernel_route) equals `want`; the
    timeout message carries the last route seen."""
    get = route_summary if where == "zebra" else kernel_route
    seen = []

    def ok():
        seen[:] = [get(r, prefix)]
        return seen[0] == want
    try:
        wait_for(ok, timeout, "route")
    except TimeoutError:
        raise AssertionError(f"{r.name}: {where} route {prefix}: expected "
                             f"'{want}', seen '{seen[0] if seen else '?'}'"
                             ) from None


def ping(r, dst, count=3, interval=0.2, src=None, timeout=None):
    """(ok, output) of a ping from router or host r."""
    cmd = ["ip", "netns", "exec", r.ns, "ping", "-n", "-c", str(count),
           "-i", str(interval), "-W", "2"]
    if src:
        cmd += ["-I", src]
    res = subprocess.run(cmd + [dst], capture_output=True, text=True,
                         timeout=timeout or count * interval + 15)
    return res.returncode == 0, res.stdout + res.stderr


class ContinuousPing:
    """ping -i INTERVAL -c COUNT from a host, in the background; outage()
    tells how long the lost requests took and the longest run of them,
    in ms of real time.

        with ContinuousPing(h, "10.2.0.10") as p:
            ... cut something ...
        lost_ms, gap_ms = p.outage()

    ping sends less often than INTERVAL asks when the timer is coarse
    (every 16 ms for -i 0.01 on a 250 Hz kernel), so the lost time is read
    from the send times of the replies around each run of lost requests
    (-D timestamp minus round-trip time), not from COUNT x INTERVAL."""

    def __init__(self, r, dst, interval=0.01, count=500):
        self.r, self.dst = r, dst
        self.interval, self.count = interval, count
        self.out = ""
        self.stopped = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.r.ns, "ping", "-n", "-D", "-c",
             str(self.count), "-i", str(self.interval), "-W", "1",
             self.dst],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        return self

    def _read(self):
        self.out = self.proc.stdout.read()

    _REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+) "
                        r".*time=([\d.]+) ms")

    def sent_at(self):
        """{sequence number: when it was sent (s)} of the requests
        answered (reading the live output is not possible without a
        race: use after wait() or stop())."""
        sent = {}
        for line in self.out.splitlines():
            m = self._REPLY.match(line)
            if m:
                sent.setdefault(int(m.group(2)), float(m.group(1))
                                - float(m.group(3)) / 1000)
        return sent

    def received(self):
        """Sequence numbers answered."""
        return set(self.sent_at())

    def wait(self):
        try:
            self.proc.wait(self.count * self.interval * 2 + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._t.join(5)

    def __exit__(self, *exc):
        if self.proc.poll() is None and exc[0] is not None:
            self.proc.kill()
        self.wait()

    def stop(self):
        """End the ping now, before its COUNT (SIGINT: it prints how many
        it sent). outage() then judges the requests sent until STOP_GRACE
        before the stop: the replies to the last few may still have been
        on their way."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.wait()
        m = re.search(r"(\d+) packets transmitted", self.out)
        if not m:
            raise AssertionError(f"ping stopped without its summary:\n"
                                 f"{self.out[-2000:]}")
        self.stopped = int(m.group(1))

    STOP_GRACE = 0.1  # seconds

    def judged(self):
        """How many requests outage() judges: COUNT, or those sent until
        STOP_GRACE before stop()."""
        if self.stopped is None:
            return self.count
        return max(0, self.stopped - round(self.STOP_GRACE / self.interval))

    def outage(self):
        """(lost_ms, longest_gap_ms): the time taken by the lost requests
        (the judged ones), in all and in the longest run. A run of k lost
        requests between answered ones sent at t1 and t2 took
        (t2 - t1) * k / (k + 1); a run at either end takes k times the
        median spacing of the answered ones."""
        n = self.judged()
        sent = {s: t for s, t in self.sent_at().items() if s <= n}
        if len(sent) < 2:
            raise AssertionError(f"ping: {len(sent)} of {n} requests "
                                 f"answered:\n{self.out[-2000:]}")
        seqs = sorted(sent)
        steps = sorted((sent[b] - sent[a]) / (b - a)
                       for a, b in zip(seqs, seqs[1:]))
        spacing = steps[len(steps) // 2]
        runs = [(seqs[0] - 1) * spacing, (n - seqs[-1]) * spacing]
        for a, b in zip(seqs, seqs[1:]):
            k = b - a - 1
            if k:
                runs.append((sent[b] - sent[a]) * k / (k + 1))
        return round(sum(runs) * 1000), round(max(runs) * 1000)


_ECHO_SERVER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(0.2)
end = time.monotonic() + float(sys.argv[2])
print("ready", flush=True)
while time.monotonic() < end:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        continue
    s.sendto(data, peer)
"""

_ECHO_CLIENT = """
import json, socket, sys, time
dst, port, n, seconds, rate = (sys.argv[1], int(sys.argv[2]),
                               int(sys.argv[3]), float(sys.argv[4]),
                               float(sys.argv[5]))
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 20000 + i))
    s.setblocking(False)
    socks.append(s)
sent, got, echoed = 0, 0, set()

def drain():
    global got
    for i, s in enumerate(socks):
        while True:
            try:
                s.recv(2048)
            except BlockingIOError:
                break
            got += 1
            echoed.add(i)

t0 = time.monotonic()
k = 0
while time.monotonic() - t0 < seconds:
    for i, s in enumerate(socks):
        s.sendto(b"flow %d" % i, (dst, port))
        sent += 1
    k += 1
    while time.monotonic() < t0 + k / rate:
        drain()
        time.sleep(0.002)
end = time.monotonic() + 0.5  # the last echoes
while time.monotonic() < end:
    drain()
    time.sleep(0.01)
print(json.dumps({"sent": sent, "received": got,
                  "flows_echoed": len(echoed)}))
"""


def udp_load(client, server, dst, flows=64, seconds=2.0, rate=20,
             port=7007):
    """UDP traffic on `flows` flows (source ports 20000...) from namespace
    `client` to `dst`, where `server` (the namespace holding dst) echoes
    every datagram: each flow sends one datagram `rate` times a second for
    `seconds`. Returns {"sent", "received" (echoes), "flows_echoed"}."""
    srv = subprocess.Popen(["ip", "netns", "exec", server.ns,
                            "/usr/bin/python3", "-c", _ECHO_SERVER,
                            str(port), str(seconds + 15)],
                           stdout=subprocess.PIPE, text=True)
    try:
        srv.stdout.readline()  # "ready"
        out = client.exec(["/usr/bin/python3", "-c", _ECHO_CLIENT, dst,
                           str(port), str(flows), str(seconds), str(rate)],
                          timeout=seconds + 30)
        return json.loads(out)
    finally:
        srv.kill()
        srv.wait()
