"""pytest set-up for the interop tests (vpnd and strongSwan as peers).

The harness library lives in tests/lib. Every test here is bounded twice:
each wait in the helpers has its own timeout, and a SIGALRM guard fails a
test that runs longer than INTEROP_TEST_TIMEOUT seconds (default 120), so
that fixtures still tear everything down.

A missing strongSwan (or root, or ping) skips every test here; in CI
(CI=true) tests/conftest.py turns those skips into failures. Test hook:
SWAN_CHARON and SWAN_SWANCTL (read by tests/lib/swan.py) point at other
charon and swanctl binaries; pointing one at a missing path shows what a
run without strongSwan reports, without uninstalling anything:

    SWAN_CHARON=/nonexistent CI=true python3 -m pytest -q interop
"""
import os
import shutil
import signal
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import swan  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("INTEROP_TEST_TIMEOUT", "120"))


def pytest_collection_modifyitems(config, items):
    missing = [p for p in (swan.CHARON, swan.SWANCTL) if not os.path.exists(p)]
    reason = None
    if os.geteuid() != 0:
        reason = "interop tests need root (network namespaces)"
    elif missing:
        reason = (f"strongSwan not installed ({', '.join(missing)} missing): "
                  "install scripts/packages/interop.txt (scripts/setup)")
    elif not shutil.which("ping"):
        reason = "ping missing: install iputils-ping (scripts/setup)"
    if reason:
        here = os.path.dirname(__file__)
        for item in items:
            if str(item.fspath).startswith(here):
                item.add_marker(pytest.mark.skip(reason=reason))


class TestTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def _bounded_test(request):
    def expired(signum, frame):
        raise TestTimeout(f"{request.node.nodeid} ran longer than "
                          f"{TEST_TIMEOUT}s (INTEROP_TEST_TIMEOUT)")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
