"""Fixtures for the vtysh tests (helpers in vtysh_helpers.py)."""
import os
import shutil

import pytest

from topo import Topo
from vtysh_helpers import VTYSH, make_etc, etc_dir


@pytest.fixture(scope="session")
def vtysh_bin():
    # A skip: counted and listed, and a failure in CI (tests/conftest.py).
    if not os.access(VTYSH, os.X_OK):
        pytest.skip(f"the built vtysh is missing ({VTYSH}): run "
                    "frr-plugin/vtysh/build (scripts/setup does)")
    return VTYSH


@pytest.fixture
def router(vtysh_bin):
    """zebra, bgpd and vpnd in one namespace, with /etc/frr/<pathspace>/."""
    with Topo("vtysh") as topo:
        r = topo.add_router("r1")
        d = make_etc(r.pathspace)
        try:
            r.exec(["ip", "link", "add", "eth0", "type", "veth", "peer",
                    "name", "eth0p"])
            r.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"])
            r.exec(["ip", "link", "set", "eth0p", "up"])
            r.exec(["ip", "link", "set", "eth0", "up"])
            for daemon in ("zebra", "bgpd", "vpnd"):
                r.start(daemon)
            yield r
        finally:
            shutil.rmtree(d, ignore_errors=True)
