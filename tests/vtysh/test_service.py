"""vpnd started and watched with FRR's own daemons by Debian's start scripts
(frrinit.sh, frrcommon.sh, watchfrr.sh and watchfrr), after
frr-plugin/init/install added it to the daemons file; and the install and
uninstall scripts of frr-plugin/init and frr-plugin/vtysh, run into a
scratch root.

systemd does not run here, so frrinit.sh is run by hand, as frr.service
would, in a namespace with its own pathspace. The scripts are Debian's,
copied with two paths changed: the daemons' directory (so that vpnd is the
built one, beside links to Debian's zebra, bgpd, staticd and watchfrr) and
the vtysh they call (the built one). Nothing is installed on the system.
"""
import filecmp
import json
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from topo import REPO, VPND, Topo, sh, wait_for
from vtysh_helpers import VTYSH, Vtysh, etc_dir, make_etc

FRR_LIB = "/usr/lib/frr"
INIT = os.path.join(REPO, "frr-plugin", "init")
VTYSH_DIR = os.path.join(REPO, "frr-plugin", "vtysh")

FRR_CONF = """frr defaults traditional
log file {log}
service integrated-vtysh-config
!
router bgp 65001
 bgp router-id 192.0.2.1
exit
!
vpn
 connection site1
  local-address 192.0.2.1
  remote-address 192.0.2.2
  pre-shared-key service-test-key-1
  interface vpn3
 exit
exit
!
"""


def frr_scripts(d):
    """Debian's start scripts in d, with daemons in d and the built vtysh."""
    for s in ("frrinit.sh", "frrcommon.sh", "watchfrr.sh"):
        shutil.copy(os.path.join(FRR_LIB, s), d)
    common = os.path.join(d, "frrcommon.sh")
    text = open(common).read()
    for old, new in ((f'D_PATH="{FRR_LIB}"', f'D_PATH="{d}"'),
                     ('VTYSH="/usr/bin/vtysh"', f'VTYSH="{VTYSH}"')):
        assert old in text, f"{common}: no {old!r} (Debian's frr changed?)"
        text = text.replace(old, new)
    open(common, "w").write(text)
    for dmn in ("zebra", "bgpd", "staticd", "watchfrr"):
        os.symlink(os.path.join(FRR_LIB, dmn), os.path.join(d, dmn))
    os.symlink(os.path.abspath(VPND), os.path.join(d, "vpnd"))


def pid_of(router, daemon):
    path = f"/var/run/frr/{router.pathspace}/{daemon}.pid"
    try:
        pid = int(open(path).read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def conn(vt):
    out = vt.out("show vpn connection json", check=False)
    return json.loads(out or "{}").get("connections", {}).get("site1")


def test_frrinit_starts_and_watches_vpnd(vtysh_bin):
    before = system_state()
    with Topo("svc") as topo, \
            tempfile.TemporaryDirectory(prefix="vpndt-svc-") as tmp:
        os.chmod(tmp, 0o755)
        r = topo.add_router("r1")
        lib = os.path.join(tmp, "lib")
        logdir = os.path.join(tmp, "log")
        os.mkdir(lib)
        os.mkdir(logdir)
        os.chmod(logdir, 0o777)  # the daemons log as user frr
        log = os.path.join(logdir, "frr.log")
        frr_scripts(lib)
        etc = make_etc(r.pathspace)
        vt = Vtysh(r)
        try:
            daemons = os.path.join(etc, "daemons")
            text = open("/etc/frr/daemons").read().replace(
                "\nbgpd=no", "\nbgpd=yes")
            text += ("watchfrr_options=\"--min-restart-interval 1 "
                     f"-r '{lib}/watchfrr.sh restart %s' "
                     f"-s '{lib}/watchfrr.sh start %s' "
                     f"-k '{lib}/watchfrr.sh stop %s'\"\n")
            open(daemons, "w").write(text)
            sh([os.path.join(INIT, "install"), "--pathspace", r.pathspace,
                "--daemons-only"])
            assert 'DAEMONS="$DAEMONS vpnd"' in open(daemons).read()
            with open(os.path.join(etc, "frr.conf"), "w") as f:
                f.write(FRR_CONF.format(log=log))

            r.exec([os.path.join(lib, "frrinit.sh"), "start", r.pathspace],
                   timeout=120)
            for dmn in ("watchfrr", "zebra", "bgpd", "staticd", "vpnd"):
                wait_for(lambda: pid_of(r, dmn), 60, f"{dmn} running")
            # vtysh -b -d vpnd (frrcommon.sh) gave vpnd its configuration
            c = wait_for(lambda: conn(vt), 60, "site1 configured in vpnd")
            assert c["interface"] == "vpn3" and c["preSharedKeySet"], c
            run = vt.running_config()
            assert "router bgp 65001" in run and " connection site1\n" in run
            watch = vt.out("show watchfrr")
            assert "vpnd" in watch, watch

            # watchfrr restarts vpnd, and vpnd gets its configuration back
            old = pid_of(r, "vpnd")
            os.kill(old, signal.SIGKILL)
            wait_for(lambda: pid_of(r, "vpnd") not in (None, old), 60,
                     "vpnd restarted by watchfrr")
            c = wait_for(lambda: conn(vt), 60, "site1 configured again")
            assert c["interface"] == "vpn3", c

            # vpnd logs where the other daemons do (frr.conf's log file)
            def logged():
                text = open(log).read() if os.path.exists(log) else ""
                return all(d in text for d in ("VPND", "ZEBRA", "BGP"))
            wait_for(logged, 30, f"VPND, ZEBRA and BGP lines in {log}")

            r.exec([os.path.join(lib, "frrinit.sh"), "stop", r.pathspace],
                   timeout=120)
            for dmn in ("watchfrr", "zebra", "bgpd", "staticd", "vpnd"):
                wait_for(lambda: pid_of(r, dmn) is None, 30,
                         f"{dmn} stopped")
        finally:
            shutil.rmtree(etc_dir(r.pathspace), ignore_errors=True)
    assert system_state() == before


def fake_root(tmp):
    """A scratch root with frr's files that the install scripts change."""
    root = os.path.join(tmp, "root")
    for d in ("usr/bin", "usr/lib/frr", "etc/frr", "etc/rsyslog.d",
              "var/lib/dpkg"):
        os.makedirs(os.path.join(root, d))
    for f in ("usr/bin/vtysh", "etc/frr/daemons",
              "etc/rsyslog.d/45-frr.conf"):
        shutil.copy2(os.path.join("/", f), os.path.join(root, f))
    return root


def system_state():
    """What the tests must leave alone: the system's vtysh and diversions."""
    div = sh(["dpkg-divert", "--list", "/usr/bin/vtysh"])
    return (div, sorted(os.listdir("/etc/rsyslog.d")),
            os.path.exists("/usr/lib/frr/vpnd"),
            sh(["sha256sum", "/usr/bin/vtysh", "/etc/frr/daemons"]))


def test_install_uninstall_into_scratch_root(vtysh_bin):
    before = system_state()
    with tempfile.TemporaryDirectory(prefix="vpndt-inst-") as tmp:
        root = fake_root(tmp)
        orig = os.path.join(tmp, "orig")
        shutil.copytree(root, orig, symlinks=True)
        vt, div = (os.path.join(root, "usr/bin", n)
                   for n in ("vtysh", "vtysh.distrib"))
        daemons = os.path.join(root, "etc/frr/daemons")

        for _ in range(2):  # twice: installing again changes nothing
            sh([os.path.join(VTYSH_DIR, "install"), "--root", root])
            sh([os.path.join(INIT, "install"), "--root", root, VPND])
            assert filecmp.cmp(vt, VTYSH, shallow=False)
            assert filecmp.cmp(div, "/usr/bin/vtysh", shallow=False)
            assert os.stat(vt).st_mode & 0o777 == 0o755
            listed = sh(["dpkg-divert", "--root", root, "--list"])
            assert "local diversion of /usr/bin/vtysh to " \
                   "/usr/bin/vtysh.distrib" in listed, listed
            assert filecmp.cmp(os.path.join(root, "usr/lib/frr/vpnd"),
                               VPND, shallow=False)
            text = open(daemons).read()
            assert text.startswith(open("/etc/frr/daemons").read())
            assert text.count("# >>> vpnd:") == 1, text
            assert 'DAEMONS="$DAEMONS vpnd"\nvpnd=yes\n' in text
            rsyslog = os.path.join(root, "etc/rsyslog.d/46-vpnd.conf")
            assert "$programname == 'vpnd'" in open(rsyslog).read()

        # the daemons file still works for frrcommon.sh (bash, sourced)
        names = sh(["bash", "-c", 'DAEMONS="zebra bgpd"; . "$1"; '
                    'echo "$DAEMONS/$vpnd/$vpnd_options"', "-", daemons])
        assert names.strip() == "zebra bgpd vpnd/yes/-A 127.0.0.1", names

        for _ in range(2):  # twice: nothing left to undo the second time
            sh([os.path.join(INIT, "uninstall"), "--root", root])
            sh([os.path.join(VTYSH_DIR, "uninstall"), "--root", root])
        # every file as it was (dpkg's own bookkeeping aside), no diversion
        diff = subprocess.run(["diff", "-r", "-x", "dpkg", orig, root],
                              capture_output=True, text=True)
        assert diff.returncode == 0, diff.stdout + diff.stderr
        listed = sh(["dpkg-divert", "--root", root, "--list"])
        assert listed == "", listed
    assert system_state() == before
