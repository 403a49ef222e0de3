"""Helpers for the NETCONF tests: keys, a vpnd with the NETCONF module in a
router's namespace, and ncclient/paramiko sessions into that namespace."""
import ctypes
import os
import pwd
import socket
import subprocess

from topo import BUILD, wait_for

MODULE = os.environ.get(
    "VPND_NETCONF_MODULE",
    os.path.join(BUILD, "frr-plugin", "netconf", "vpnd_netconf.so"))
NS = "urn:vpnd:params:xml:ns:yang:vpnd"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
PORT = 830
USER = "admin"

_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_CLONE_NEWNET = 0x40000000


def ns_socket(ns, host="127.0.0.1", port=PORT, timeout=10):
    """A TCP connection opened from inside network namespace `ns` (the
    socket keeps its namespace; this thread comes back to its own)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    tgt = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(tgt, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into " + ns)
        try:
            return socket.create_connection((host, port), timeout)
        finally:
            if _libc.setns(own, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(tgt)


def keygen(path, kind="ed25519"):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C",
                    "vpnd-netconf-test", "-f", path], check=True)
    return path


class Keys:
    """Host key (readable by frr, as vpnd runs as frr), a client key in
    authorized_keys, and a second client key that is not authorized."""

    def __init__(self, d):
        self.dir = d
        self.host = keygen(os.path.join(d, "ssh_host_key"))
        self.client = keygen(os.path.join(d, "client_key"))
        self.stranger = keygen(os.path.join(d, "stranger_key"))
        self.authorized = os.path.join(d, "authorized_keys")
        with open(self.authorized, "w") as f:
            f.write("# test keys\n")
            f.write(open(self.client + ".pub").read())
        frr = pwd.getpwnam("frr")
        os.chown(self.host, frr.pw_uid, frr.pw_gid)
        os.chmod(self.authorized, 0o644)

    def module_arg(self, port=PORT, address=None, extra=""):
        arg = (f"{MODULE}:port={port},host-key={self.host},"
               f"authorized-keys={self.authorized}")
        if address:
            arg += f",address={address}"
        if extra:
            arg += "," + extra
        return arg


def start_vpnd(router, keys, conf="", port=PORT, extra=""):
    router.start("vpnd", conf,
                 extra=["-M", keys.module_arg(port, extra=extra)])
    wait_for(lambda: "listening on" in open(router.log_path("vpnd")).read(),
             10, "the NETCONF server to listen")


def connect(router, keys, key=None, port=PORT, timeout=30):
    from ncclient import manager
    sock = ns_socket(router.ns, port=port)
    return manager.connect(host="127.0.0.1", port=port, username=USER,
                           key_filename=key or keys.client,
                           hostkey_verify=False, look_for_keys=False,
                           allow_agent=False, sock=sock, timeout=timeout)
