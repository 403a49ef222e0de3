"""strongSwan's charon as a reference IKEv2 peer inside one of our network
namespaces (a topo.Router, or a bare namespace name).

The kernel has no ESP/XFRM, so charon runs with kernel-libipsec (user-space
ESP over a TUN device, ipsec0) plus kernel-netlink for addresses and routes,
and only in ESP-in-UDP mode (encap = yes). Every instance gets:

  - its own strongswan.conf (STRONGSWAN_CONF), loading an explicit plugin
    list, logging to <dir>/<name>.log;
  - its own mount namespace with a private tmpfs on /run (unshare -m), so
    charon's pid file and default sockets never collide with another
    instance or with a system charon;
  - its own vici socket, <dir>/<name>.vici, reachable from the host
    (a UNIX socket on the file system is not bound to a network namespace).

Configuration is written as swanctl.conf from Python parameters (Conn) and
loaded with `swanctl --load-all`; everything else (initiate, terminate,
list-sas) talks vici directly through the small client below, which needs
no python3-vici (Debian 12 does not ship it).

Pre-shared keys are written to swanctl.conf in hex and masked (<psk>) in
every text this module returns or raises: logs, swanctl output, errors.

    sw = Swan(router)
    sw.add_conn(Conn("gw", local_addrs="192.0.2.1", remote_addrs="192.0.2.2",
                     psk="...", local_ts="10.1.0.0/24",
                     remote_ts="10.2.0.0/24"))
    sw.start()            # charon + swanctl --load-all
    sw.initiate("net")
    sa = sw.wait_established(10)
    sw.stop()
"""
import atexit
import os
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
import time

CHARON = os.environ.get("SWAN_CHARON", "/usr/lib/ipsec/charon")
SWANCTL = os.environ.get("SWAN_SWANCTL", "/usr/sbin/swanctl")

# Loaded in this order. kernel-libipsec comes before kernel-netlink so that
# its IPsec backend is the one charon uses (kernel-netlink's XFRM half finds
# no XFRM in this kernel anyway); kernel-netlink provides addresses, routes.
PLUGINS = ("random nonce openssl aes sha1 sha2 hmac gcm pem pkcs1 pkcs8 x509 "
           "pubkey kdf kernel-libipsec kernel-netlink socket-default vici")

# Charon log levels per subsystem. 2 shows proposals, selectors, SA
# installation and authentication; 3 and 4 would dump packets and keying
# material, so they are never used here.
LOG_LEVELS = {"default": 1, "ike": 2, "cfg": 2, "knl": 2, "net": 1,
              "chd": 2, "esp": 1, "lib": 1, "enc": 0}

_live = set()  # running instances, killed at interpreter exit if still up


@atexit.register
def _kill_leftovers():
    for sw in list(_live):
        sw.kill()


class SwanError(Exception):
    pass


# -- vici --------------------------------------------------------------------
# Transport: 32-bit big-endian length, then the packet. Packet: type byte,
# for named types an 8-bit length + name, then the message. Message
# elements: SECTION_START(name) SECTION_END KEY_VALUE(name, 16-bit len value)
# LIST_START(name) LIST_ITEM(16-bit len value) LIST_END.

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT = \
    3, 4, 5, 6, 7
_NAMED = (CMD_REQUEST, EVENT_REGISTER, EVENT_UNREGISTER, EVENT)
SECTION_START, SECTION_END, KEY_VALUE, LIST_START, LIST_ITEM, LIST_END = \
    1, 2, 3, 4, 5, 6


def vici_encode(msg):
    out = bytearray()

    def name(n):
        b = n.encode()
        out.append(len(b))
        out.extend(b)

    def value(v):
        if isinstance(v, bool):
            v = "yes" if v else "no"
        b = v if isinstance(v, bytes) else str(v).encode()
        out.extend(struct.pack("!H", len(b)))
        out.extend(b)

    def section(d):
        for k, v in d.items():
            if isinstance(v, dict):
                out.append(SECTION_START)
                name(k)
                section(v)
                out.append(SECTION_END)
            elif isinstance(v, (list, tuple)):
                out.append(LIST_START)
                name(k)
                for item in v:
                    out.append(LIST_ITEM)
                    value(item)
                out.append(LIST_END)
            else:
                out.append(KEY_VALUE)
                name(k)
                value(v)

    section(msg or {})
    return bytes(out)


def vici_decode(data):
    """Decode a vici message into nested dicts (sections), lists of str
    (lists) and str (values)."""
    root = {}
    stack = [root]
    cur_list = None
    i = 0

    def take_name():
        nonlocal i
        n = data[i]
        s = data[i + 1:i + 1 + n].decode(errors="replace")
        i += 1 + n
        return s

    def take_value():
        nonlocal i
        (n,) = struct.unpack_from("!H", data, i)
        s = data[i + 2:i + 2 + n].decode(errors="replace")
        i += 2 + n
        return s

    while i < len(data):
        t = data[i]
        i += 1
        if t == SECTION_START:
            d = {}
            stack[-1][take_name()] = d
            stack.append(d)
        elif t == SECTION_END:
            stack.pop()
        elif t == KEY_VALUE:
            k = take_name()
            stack[-1][k] = take_value()
        elif t == LIST_START:
            cur_list = []
            stack[-1][take_name()] = cur_list
        elif t == LIST_ITEM:
            cur_list.append(take_value())
        elif t == LIST_END:
            cur_list = None
        else:
            raise SwanError(f"vici: bad element type {t}")
    return root


class Vici:
    """A vici connection: one command at a time, events collected while a
    streamed command runs."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as e:
            self.sock.close()
            raise SwanError(f"vici: cannot connect to {path}: {e}") from e

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, ptype, name=None, msg=None):
        pkt = bytearray([ptype])
        if name is not None:
            b = name.encode()
            pkt.append(len(b))
            pkt.extend(b)
        if msg is not None:
            pkt.extend(vici_encode(msg))
        self.sock.sendall(struct.pack("!I", len(pkt)) + pkt)

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise SwanError("vici: connection closed by charon")
            buf.extend(chunk)
        return bytes(buf)

    def _recv(self):
        (n,) = struct.unpack("!I", self._recv_exact(4))
        data = self._recv_exact(n)
        ptype = data[0]
        i = 1
        name = None
        if ptype in _NAMED:
            ln = data[1]
            name = data[2:2 + ln].decode()
            i = 2 + ln
        return ptype, name, data[i:]

    def _event(self, ptype, name):
        self._send(ptype, name)
        while True:
            t, _, _ = self._recv()
            if t == EVENT_CONFIRM:
                return
            if t == EVENT_UNKNOWN:
                raise SwanError(f"vici: unknown event {name}")
            # an event of another registration: ignore

    def request(self, cmd, msg=None, events=()):
        """Run a command; return (response, {event: [messages]})."""
        for e in events:
            self._event(EVENT_REGISTER, e)
        got = {e: [] for e in events}
        try:
            self._send(CMD_REQUEST, cmd, msg)
            while True:
                t, name, body = self._recv()
                if t == CMD_RESPONSE:
                    return vici_decode(body), got
                if t == CMD_UNKNOWN:
                    raise SwanError(f"vici: unknown command {cmd}")
                if t == EVENT and name in got:
                    got[name].append(vici_decode(body))
        finally:
            for e in events:
                self._event(EVENT_UNREGISTER, e)


# -- configuration -----------------------------------------------------------

def _csv(v):
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


class Conn:
    """One swanctl connection with one child (route-based peers need one).

    Times are in seconds (swanctl accepts plain numbers). ike_life_time is
    the IKE SA's hard lifetime: swanctl has no such key, so it is written as
    over_time = ike_life_time - ike_rekey_time. Keys this class does not
    model go in ike_extra / child_extra (written verbatim, values as str).
    """

    def __init__(self, name, *, local_addrs, remote_addrs, psk,
                 local_ts, remote_ts, local_id=None, remote_id=None,
                 child="net", ike_proposals="default",
                 esp_proposals="default", ike_rekey_time=None,
                 ike_life_time=None, rekey_time=None, life_time=None,
                 rand_time=None, dpd_delay=None, dpd_action=None,
                 start_action="none", close_action=None, keyingtries=1,
                 encap=True, mobike=False, local_port=None,
                 remote_port=None, ike_extra=None, child_extra=None):
        self.name = name
        self.child = child
        self.local_addrs = local_addrs
        self.remote_addrs = remote_addrs
        self.local_id = local_id or _csv(local_addrs).split(",")[0]
        self.remote_id = remote_id or _csv(remote_addrs).split(",")[0]
        self.psk = psk
        self.local_ts = local_ts
        self.remote_ts = remote_ts
        self.ike_proposals = ike_proposals
        self.esp_proposals = esp_proposals
        self.ike_rekey_time = ike_rekey_time
        self.ike_life_time = ike_life_time
        self.rekey_time = rekey_time
        self.life_time = life_time
        self.rand_time = rand_time
        self.dpd_delay = dpd_delay
        self.dpd_action = dpd_action
        self.start_action = start_action
        self.close_action = close_action
        self.keyingtries = keyingtries
        self.encap = encap
        self.mobike = mobike
        self.local_port = local_port
        self.remote_port = remote_port
        self.ike_extra = dict(ike_extra or {})
        self.child_extra = dict(child_extra or {})

    def __repr__(self):
        return (f"Conn({self.name!r}, {self.local_addrs} -> "
                f"{self.remote_addrs}, psk=<psk>)")

    def swanctl(self):
        """The connections { } entry, as (name, nested dict)."""
        yn = lambda b: "yes" if b else "no"  # noqa: E731
        ike = {
            "version": "2",
            "local_addrs": _csv(self.local_addrs),
            "remote_addrs": _csv(self.remote_addrs),
            "proposals": _csv(self.ike_proposals),
            "encap": yn(self.encap),
            "mobike": yn(self.mobike),
            "keyingtries": self.keyingtries,
        }
        if self.local_port:
            ike["local_port"] = self.local_port
        if self.remote_port:
            ike["remote_port"] = self.remote_port
        if self.ike_rekey_time is not None:
            ike["rekey_time"] = self.ike_rekey_time
        if self.ike_life_time is not None:
            rk = self.ike_rekey_time or 0
            ike["over_time"] = max(self.ike_life_time - rk, 0)
        if self.rand_time is not None:
            ike["rand_time"] = self.rand_time
        if self.dpd_delay is not None:
            ike["dpd_delay"] = self.dpd_delay
        ike.update(self.ike_extra)
        ike["local"] = {"auth": "psk", "id": self.local_id}
        ike["remote"] = {"auth": "psk", "id": self.remote_id}
        child = {
            "mode": "tunnel",
            "local_ts": _csv(self.local_ts),
            "remote_ts": _csv(self.remote_ts),
            "esp_proposals": _csv(self.esp_proposals),
            "start_action": self.start_action,
        }
        for key, val in (("rekey_time", self.rekey_time),
                         ("life_time", self.life_time),
                         ("rand_time", self.rand_time),
                         ("dpd_action", self.dpd_action),
                         ("close_action", self.close_action)):
            if val is not None:
                child[key] = val
        child.update(self.child_extra)
        ike["children"] = {self.child: child}
        return self.name, ike

    def secret(self):
        ids = {"id-1": self.local_id, "id-2": self.remote_id}
        psk = self.psk.encode() if isinstance(self.psk, str) else self.psk
        return f"ike-{self.name}", dict(ids, secret="0x" + psk.hex())


def _conf_text(tree, indent=0):
    pad = "    " * indent
    out = []
    for k, v in tree.items():
        if isinstance(v, dict):
            out.append(f"{pad}{k} {{")
            out.append(_conf_text(v, indent + 1))
            out.append(f"{pad}}}")
        else:
            out.append(f"{pad}{k} = {v}")
    return "\n".join(l for l in out if l)


# -- the daemon --------------------------------------------------------------

class Swan:
    """charon in a namespace. `where` is a topo.Router or a namespace name."""

    def __init__(self, where, name="charon", dir=None, port=500,
                 port_nat_t=4500, log_levels=None, libipsec_mtu=None,
                 strongswan_conf=None, swanctl_conf=None, secrets=()):
        """strongswan_conf / swanctl_conf: the text of ready files (e.g.
        from configs/) used instead of the generated ones; the caller puts
        this instance's vici socket and log paths in them (vici_path,
        log_path below). secrets: PSKs those files hold, masked like the
        Conn ones."""
        if isinstance(where, str):
            self.ns = where
            self.router = None
        else:
            self.ns = where.ns
            self.router = where
        if dir is None:
            dir = (where.dir if self.router is not None
                   else tempfile.mkdtemp(prefix=f"swan-{self.ns}-"))
        self.dir = dir
        self.name = name
        self.conf_path = os.path.join(dir, f"{name}.strongswan.conf")
        self.swanctl_path = os.path.join(dir, f"{name}.swanctl.conf")
        self.log_path = os.path.join(dir, f"{name}.log")
        self.out_path = os.path.join(dir, f"{name}.out")
        self.vici_path = os.path.join(dir, f"{name}.vici")
        if len(self.vici_path) > 100:
            raise SwanError(f"vici socket path too long: {self.vici_path}")
        self.port = port
        self.port_nat_t = port_nat_t
        self.log_levels = dict(LOG_LEVELS, **(log_levels or {}))
        self.libipsec_mtu = libipsec_mtu
        self.conns = []
        self.proc = None
        self._out = None
        self.strongswan_conf_text = strongswan_conf
        self.swanctl_conf_text = swanctl_conf
        self.secrets = list(secrets)

    def __repr__(self):
        return f"Swan({self.ns}, {self.name})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- secrets -----------------------------------------------------------
    def redact(self, text):
        """Mask every PSK this instance knows (raw and hex) in text."""
        if not text:
            return text
        for psk in [c.psk for c in self.conns] + self.secrets:
            psk = psk.encode() if isinstance(psk, str) else psk
            forms = {psk.hex(), psk.hex().upper()}
            try:
                forms.add(psk.decode())
            except UnicodeDecodeError:
                pass
            for f in sorted(forms, key=len, reverse=True):
                if f:
                    text = text.replace(f, "<psk>")
        return text

    # -- configuration -----------------------------------------------------
    def add_conn(self, conn):
        self.conns.append(conn)
        return conn

    def strongswan_conf(self):
        levels = "\n".join(f"                {k} = {v}"
                           for k, v in self.log_levels.items())
        mtu = (f"\n            mtu = {self.libipsec_mtu}"
               if self.libipsec_mtu else "")
        return f"""# written by tests/lib/swan.py for {self.ns}
charon {{
    load_modular = no
    load = {PLUGINS}
    port = {self.port}
    port_nat_t = {self.port_nat_t}
    install_virtual_ip = no
    retransmit_tries = 3
    retransmit_timeout = 1.0
    retransmit_base = 1.4
    filelog {{
        swan {{
            path = {self.log_path}
            time_format = %H:%M:%S
            ike_name = yes
            append = no
            flush_line = yes
{levels}
        }}
    }}
    plugins {{
        vici {{
            socket = unix://{self.vici_path}
        }}
        kernel-libipsec {{
            load = yes{mtu}
        }}
    }}
}}
swanctl {{
    load = pem pkcs1 pkcs8 x509 pubkey openssl random
    socket = unix://{self.vici_path}
}}
"""

    def swanctl_conf(self):
        conns = dict(c.swanctl() for c in self.conns)
        secrets = dict(c.secret() for c in self.conns)
        return ("# written by tests/lib/swan.py\n"
                + _conf_text({"connections": conns, "secrets": secrets})
                + "\n")

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.strongswan_conf_text or self.strongswan_conf())
        fd = os.open(self.swanctl_path,
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.swanctl_conf_text or self.swanctl_conf())

    # -- process -----------------------------------------------------------
    def start(self, timeout=10, load=True):
        """Start charon in the namespace, wait for vici, load the config."""
        if self.proc is not None:
            raise SwanError(f"{self} already started")
        self.write_config()
        for p in (self.vici_path, self.log_path):
            if os.path.exists(p):
                os.unlink(p)
        inner = ("mount -t tmpfs -o mode=0755 swanrun /run && "
                 f"exec env STRONGSWAN_CONF={shlex.quote(self.conf_path)} "
                 f"{shlex.quote(CHARON)}")
        cmd = ["ip", "netns", "exec", self.ns,
               "unshare", "-m", "--propagation", "private",
               "sh", "-c", inner]
        self._out = open(self.out_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._out,
                                     stderr=subprocess.STDOUT)
        _live.add(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise SwanError(f"charon in {self.ns} exited "
                                f"({self.proc.returncode}):\n"
                                + self.output() + self.log())
            try:
                with Vici(self.vici_path, timeout=2) as v:
                    v.request("version")
                break
            except (OSError, SwanError):
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise SwanError(f"charon in {self.ns}: no vici socket "
                                f"after {timeout}s\n" + self.log())
            time.sleep(0.05)
        if load:
            self.load()
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5):
        """SIGTERM (charon deletes its SAs on the way out), then SIGKILL.
        Returns True if charon exited on its own within timeout."""
        if self.proc is None:
            return True
        ok = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                ok = False
        self.kill()
        return ok

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            self.proc = None
        if self._out is not None:
            self._out.close()
            self._out = None
        _live.discard(self)
        if os.path.exists(self.vici_path):
            try:
                os.unlink(self.vici_path)
            except OSError:
                pass

    # -- control -----------------------------------------------------------
    def swanctl(self, *args, check=True, timeout=30):
        """Run swanctl against this instance's vici socket; return its
        output with PSKs masked."""
        cmd = [SWANCTL, *args, "--uri", f"unix://{self.vici_path}"]
        env = dict(os.environ, STRONGSWAN_CONF=self.conf_path)
        res = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=timeout, env=env)
        out = self.redact(res.stdout + res.stderr)
        if check and res.returncode != 0:
            raise SwanError(f"swanctl {' '.join(args)} failed "
                            f"({res.returncode}):\n{out}")
        return out

    def load(self):
        """(Re)write swanctl.conf and load it all (conns and secrets)."""
        self.write_config()
        return self.swanctl("--load-all", "--noprompt",
                            "--file", self.swanctl_path)

    def vici(self, timeout=10.0):
        return Vici(self.vici_path, timeout=timeout)

    def _control(self, cmd, msg, timeout, check):
        msg = dict(msg, timeout=int(timeout * 1000), loglevel=1)
        with self.vici(timeout=timeout + 5) as v:
            res, ev = v.request(cmd, msg, events=("control-log",))
        lines = [e.get("msg", "") for e in ev["control-log"]]
        ok = res.get("success") == "yes"
        log = self.redact("\n".join(lines))
        if check and not ok:
            raise SwanError(f"{cmd} {msg} in {self.ns} failed: "
                            f"{self.redact(res.get('errmsg', ''))}\n{log}")
        return ok, log

    def initiate(self, child="net", ike=None, timeout=10, check=True):
        """Initiate a CHILD_SA (and its IKE_SA); return (ok, control log)."""
        msg = {"child": child}
        if ike:
            msg["ike"] = ike
        return self._control("initiate", msg, timeout, check)

    def terminate(self, ike=None, child=None, ike_id=None, timeout=10,
                  check=True):
        msg = {}
        if ike:
            msg["ike"] = ike
        if child:
            msg["child"] = child
        if ike_id is not None:
            msg["ike-id"] = str(ike_id)
        return self._control("terminate", msg, timeout, check)

    def rekey(self, ike=None, child=None):
        msg = {"ike": ike} if ike else {"child": child}
        with self.vici() as v:
            res, _ = v.request("rekey", msg)
        return res.get("success") == "yes"

    def list_sas(self, ike=None):
        """IKE_SAs as a list of dicts with vici's keys ('state', 'encr-alg',
        'dh-group', ...) plus 'name'; 'child-sas' maps '<child>-<id>' to a
        dict ('state', 'encr-alg', 'spi-in', 'bytes-in', 'local-ts', ...).
        """
        msg = {"noblock": "yes"}
        if ike:
            msg["ike"] = ike
        with self.vici() as v:
            _, ev = v.request("list-sas", msg, events=("list-sa",))
        sas = []
        for e in ev["list-sa"]:
            for name, sa in e.items():
                sa = dict(sa, name=name)
                sa.setdefault("child-sas", {})
                sas.append(sa)
        return sas

    def list_conns(self):
        with self.vici() as v:
            _, ev = v.request("list-conns", {}, events=("list-conn",))
        conns = {}
        for e in ev["list-conn"]:
            conns.update(e)
        return conns

    def established(self, ike=None, child=None):
        """The first ESTABLISHED IKE_SA (with an INSTALLED child named
        `child` if given), or None."""
        for sa in self.list_sas(ike):
            if sa.get("state") != "ESTABLISHED":
                continue
            if child is None:
                return sa
            for c in sa["child-sas"].values():
                if c.get("name") == child and c.get("state") == "INSTALLED":
                    return sa
        return None

    def wait_established(self, timeout=10, ike=None, child="net"):
        """Wait until an IKE_SA is ESTABLISHED with `child` INSTALLED."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise SwanError(f"charon in {self.ns} died\n" + self.log())
            last = self.list_sas(ike)
            sa = self.established(ike, child)
            if sa:
                return sa
            time.sleep(0.1)
        states = [(s["name"], s.get("state"),
                   [c.get("state") for c in s["child-sas"].values()])
                  for s in (last or [])]
        raise TimeoutError(f"{self}: no established SA with child {child!r} "
                           f"after {timeout}s (SAs: {states})\n"
                           + self.log_tail())

    # -- logs --------------------------------------------------------------
    def log(self):
        """charon's log file, PSKs masked."""
        try:
            with open(self.log_path, errors="replace") as f:
                return self.redact(f.read())
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log().splitlines()[-n:])

    def output(self):
        """charon's stdout/stderr (startup errors land here)."""
        try:
            with open(self.out_path, errors="replace") as f:
                return self.redact(f.read())
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, timeout=10):
        """Wait until `needle` (a str) appears in the log; return the line."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log().splitlines():
                if needle in line:
                    return line
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self}: {needle!r} not in log after "
                                   f"{timeout}s\n" + self.log_tail())
            time.sleep(0.1)
