"""Helpers for the vtysh tests: the vtysh built with vpnd (frr-plugin/vtysh/build), run in place against
FRR daemons and vpnd in a network namespace with their own pathspace.

vtysh -N <pathspace> reads /etc/frr/<pathspace>/vtysh.conf and writes
/etc/frr/<pathspace>/frr.conf: each test gets its own such directory,
created here and removed afterwards. /etc/frr/frr.conf and /usr/bin/vtysh
are never touched.
"""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time

from topo import REPO, Topo

VTYSH = os.environ.get("VPND_VTYSH",
                       os.path.join(REPO, "build-vtysh", "vtysh"))
ETC_FRR = "/etc/frr"


def etc_dir(pathspace):
    # never /etc/frr itself: that is the system's FRR configuration
    assert pathspace and "/" not in pathspace and pathspace != "."
    return os.path.join(ETC_FRR, pathspace)


class Vtysh:
    """The built vtysh for one router (namespace + pathspace)."""

    def __init__(self, router):
        self.r = router
        self.etc = etc_dir(router.pathspace)
        self.conf = os.path.join(self.etc, "frr.conf")

    def argv(self, *args):
        return ["ip", "netns", "exec", self.r.ns, VTYSH,
                "-N", self.r.pathspace, *args]

    def run(self, *cmds, args=(), check=True, timeout=60):
        """vtysh [args] -c CMD ...; returns (rc, stdout, stderr)."""
        argv = self.argv(*args)
        for c in cmds:
            argv += ["-c", c]
        res = subprocess.run(argv, capture_output=True, text=True,
                             timeout=timeout,
                             env={**os.environ, "VTYSH_PAGER": "cat"})
        if check and res.returncode != 0:
            raise AssertionError(
                f"vtysh {' '.join(repr(c) for c in cmds)} exited "
                f"{res.returncode}\nstdout: {res.stdout}\n"
                f"stderr: {res.stderr}")
        return res.returncode, res.stdout, res.stderr

    def out(self, *cmds, **kw):
        return self.run(*cmds, **kw)[1]

    def configure(self, *lines, check=True):
        return self.run("configure terminal", *lines, check=check)

    def running_config(self):
        return self.out("show running-config")


class Term:
    """vtysh on a pseudo-terminal, as a person types into it."""

    def __init__(self, argv, timeout=10):
        self.timeout = timeout
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True,
            env={**os.environ, "TERM": "vt100", "VTYSH_PAGER": "cat"})
        os.close(slave)
        self.buf = ""

    def send(self, text):
        os.write(self.master, text.encode())

    def expect(self, pattern, timeout=None):
        """Read until the regex matches; return the text read up to it."""
        deadline = time.monotonic() + (timeout or self.timeout)
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf)
            if m:
                seen, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return seen
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"vtysh terminal: expected {pattern!r}, "
                    f"saw {self.buf[-2000:]!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(
                        f"vtysh terminal closed while expecting "
                        f"{pattern!r}; saw {self.buf[-2000:]!r}")
                self.buf += data.decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.close(self.master)



def make_etc(pathspace, integrated=True):
    """/etc/frr/<pathspace>/ with a vtysh.conf (integrated configuration)."""
    d = etc_dir(pathspace)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "vtysh.conf"), "w") as f:
        if integrated:
            f.write("service integrated-vtysh-config\n")
    return d
