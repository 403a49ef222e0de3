"""Routers in network namespaces running real FRR daemons (Debian's zebra,
bgpd, staticd) plus vpnd, each router with its own FRR pathspace.

Everything a Topo creates (namespaces, veths, processes, state directories)
is removed when it is closed, including after a failed test; namespaces
left behind by a killed run are swept by the next one (same name prefix).
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from frrvty import Vty

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("VPND_BUILD", os.path.join(REPO, "build"))
VPND = os.environ.get("VPND_BIN", os.path.join(BUILD, "vpnd", "vpnd"))
FRR_SBIN = "/usr/lib/frr"
FRR_RUN = "/var/run/frr"
PREFIX = "vpndt"


def sh(cmd, check=True, **kw):
    """Run a command (list or string) and return its stdout."""
    if isinstance(cmd, str):
        cmd = ["sh", "-c", cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and res.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({res.returncode}): "
                           f"{res.stdout}{res.stderr}")
    return res.stdout


def netns_list():
    out = sh(["ip", "netns", "list"], check=False)
    return [l.split()[0] for l in out.splitlines() if l.strip()]


def netns_kill_all(ns):
    pids = sh(["ip", "netns", "pids", ns], check=False).split()
    for p in pids:
        try:
            os.kill(int(p), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def sweep_stale():
    """Remove namespaces and state dirs of runs that died without cleanup."""
    for ns in netns_list():
        if not ns.startswith(PREFIX + "-"):
            continue
        owner = ns.split("-")[1]
        if (not os.environ.get("VPND_SWEEP_ALL") and owner.isdigit()
                and os.path.exists(f"/proc/{owner}")):
            continue  # a live run owns it
        netns_kill_all(ns)
        sh(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(os.path.join(FRR_RUN, ns), ignore_errors=True)


def wait_for(pred, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - retried until timeout
            last = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} "
                       f"(last: {last!r})")


def tcp_transfer(client, server, addr, seconds=10):
    """iperf3 TCP from router `client` to `addr` on router `server` for
    `seconds`; returns the bytes carried in each 1 s interval."""
    import json
    srv = subprocess.Popen(["ip", "netns", "exec", server.ns, "iperf3",
                            "-s", "-1", "-B", addr],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        res = subprocess.run(["ip", "netns", "exec", client.ns, "iperf3",
                              "-c", addr, "-t", str(seconds), "-J"],
                             capture_output=True, text=True,
                             timeout=seconds + 30)
        if res.returncode != 0:
            raise RuntimeError(f"iperf3 failed: {res.stdout[-2000:]}")
        return [i["sum"]["bytes"] for i in json.loads(res.stdout)["intervals"]]
    finally:
        srv.kill()
        srv.wait()


class Router:
    def __init__(self, topo, name):
        self.topo = topo
        self.name = name
        self.ns = f"{topo.prefix}-{name}"
        self.pathspace = self.ns
        self.dir = os.path.join(topo.dir, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o777)  # FRR daemons drop to user frr
        self.daemons = {}  # name -> pid
        sh(["ip", "netns", "add", self.ns])
        self.exec(["ip", "link", "set", "lo", "up"])

    # -- processes -----------------------------------------------------
    def exec(self, cmd, check=True, **kw):
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        return sh(["ip", "netns", "exec", self.ns] + cmd, check=check, **kw)

    def conf_path(self, daemon):
        return os.path.join(self.dir, f"{daemon}.conf")

    def pid_path(self, daemon):
        return os.path.join(self.dir, f"{daemon}.pid")

    def log_path(self, daemon):
        return os.path.join(self.dir, f"{daemon}.log")

    def vty_path(self, daemon):
        return os.path.join(FRR_RUN, self.pathspace, f"{daemon}.vty")

    def write_conf(self, daemon, text):
        path = self.conf_path(daemon)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def start(self, daemon, conf="", extra=(), wait=True):
        """Start one daemon with FRR's usual options; wait for its vty."""
        binary = VPND if daemon == "vpnd" else os.path.join(FRR_SBIN, daemon)
        self.write_conf(daemon, conf)
        pidfile = self.pid_path(daemon)
        if os.path.exists(self.vty_path(daemon)):
            os.unlink(self.vty_path(daemon))
        cmd = [binary, "-d", "-N", self.pathspace,
               "-f", self.conf_path(daemon), "-i", pidfile,
               "-A", "127.0.0.1", "-P", "0",
               "--log", f"file:{self.log_path(daemon)}",
               "--log-level", "debug", *extra]
        self.exec(cmd)
        pid = int(wait_for(lambda: open(pidfile).read().strip(), 10,
                           f"{daemon} pid file in {self.name}"))
        self.daemons[daemon] = pid
        if wait:
            wait_for(lambda: self.vty_ok(daemon), 15,
                     f"{daemon} vty in {self.name}")
        return pid

    def vty_ok(self, daemon):
        with Vty(self.vty_path(daemon)) as v:
            v.run("enable")
            return True

    def alive(self, daemon):
        pid = self.daemons.get(daemon)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie is not alive
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    def stop(self, daemon, sig=signal.SIGTERM, timeout=10):
        """Stop a daemon; return True if it exited within timeout."""
        pid = self.daemons.get(daemon)
        if pid is None:
            return True
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        try:
            wait_for(lambda: not self.alive(daemon), timeout,
                     f"{daemon} to exit")
            ok = True
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            ok = False
        del self.daemons[daemon]
        return ok

    # -- links ---------------------------------------------------------
    def link_set(self, ifname, up):
        """Administratively up or down (the veth peer loses carrier too)."""
        self.exec(["ip", "link", "set", ifname, "up" if up else "down"])

    def block(self, ifname):
        """Cut an interface silently: nftables drops every IPv4/IPv6 packet
        in and out of it, carrier and addresses stay (a failure somewhere in
        the provider's network, seen by neither end's link state)."""
        t = f"vpndcut_{ifname.replace('-', '_')}"
        self.exec(["nft", "-f", "-"], input=(
            f"table inet {t} {{\n"
            f" chain in {{ type filter hook prerouting priority -300; "
            f"iifname \"{ifname}\" drop; }}\n"
            f" chain out {{ type filter hook postrouting priority 300; "
            f"oifname \"{ifname}\" drop; }}\n"
            f"}}\n"))

    def unblock(self, ifname):
        t = f"vpndcut_{ifname.replace('-', '_')}"
        self.exec(["nft", "delete", "table", "inet", t])

    def if_counters(self, ifname):
        """(rx_packets, tx_packets) of an interface."""
        import json
        st = json.loads(self.exec(["ip", "-j", "-s", "link", "show",
                                   ifname]))[0]["stats64"]
        return st["rx"]["packets"], st["tx"]["packets"]

    # -- vty -----------------------------------------------------------
    def vty(self, daemon):
        v = Vty(self.vty_path(daemon))
        v.run("enable")
        return v

    def cmd(self, daemon, line):
        with self.vty(daemon) as v:
            return v.run(line)

    def configure(self, daemon, lines):
        with self.vty(daemon) as v:
            return v.configure(lines)

    def close(self):
        for d in list(self.daemons):
            self.stop(d, signal.SIGKILL, timeout=5)
        netns_kill_all(self.ns)
        sh(["ip", "netns", "del", self.ns], check=False)
        shutil.rmtree(os.path.join(FRR_RUN, self.pathspace),
                      ignore_errors=True)


class Topo:
    """A set of routers and links; use as a context manager."""

    def __init__(self, name="t"):
        sweep_stale()
        self.prefix = f"{PREFIX}-{os.getpid()}-{name}"
        # namespace names are not limited, but veth names are (15 chars)
        self.dir = tempfile.mkdtemp(prefix=f"{PREFIX}-{name}-")
        os.chmod(self.dir, 0o755)
        self.routers = {}
        self.nlinks = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def add_router(self, name):
        r = Router(self, name)
        self.routers[name] = r
        return r

    def add_link(self, a, b, a_addr=None, b_addr=None, a_name=None,
                 b_name=None):
        """A veth pair between routers a and b; returns (a_if, b_if).

        a_name / b_name give the ends stable names inside their namespaces
        (eth0, lan0...), as configurations refer to them; without them the
        ends keep their unique generated names."""
        self.nlinks += 1
        tag = f"{os.getpid() % 100000}{self.nlinks}"
        a_if, b_if = f"va{tag}", f"vb{tag}"
        sh(["ip", "link", "add", a_if, "type", "veth", "peer", "name", b_if])
        sh(["ip", "link", "set", a_if, "netns", a.ns])
        sh(["ip", "link", "set", b_if, "netns", b.ns])
        if a_name:
            a.exec(["ip", "link", "set", a_if, "name", a_name])
            a_if = a_name
        if b_name:
            b.exec(["ip", "link", "set", b_if, "name", b_name])
            b_if = b_name
        for r, ifn, addr in ((a, a_if, a_addr), (b, b_if, b_addr)):
            if addr:
                r.exec(["ip", "addr", "add", addr, "dev", ifn])
            r.exec(["ip", "link", "set", ifn, "up"])
        return a_if, b_if

    def add_host(self, name, router, addr, gateway, router_if="lan0",
                 host_if="eth0", router_addr=None):
        """A host namespace behind `router` on a veth pair: `addr` (with its
        prefix length) on host_if, default route via `gateway`. The router's
        end is named router_if and gets router_addr if given (usually the
        router's zebra configuration addresses it). Returns the host as a
        Router (a namespace without daemons)."""
        h = self.add_router(name)
        self.add_link(router, h, router_addr, addr, a_name=router_if,
                      b_name=host_if)
        h.exec(["ip", "route", "add", "default", "via", gateway])
        return h

    def close(self, keep_logs_on_failure=True):
        for r in self.routers.values():
            r.close()
        self.routers = {}
        if os.environ.get("VPND_KEEP_LOGS"):
            return
        shutil.rmtree(self.dir, ignore_errors=True)
