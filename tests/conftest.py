"""pytest set-up shared by every test directory: the harness library, and
what a skip means.

A skip is not a pass. Every skip is counted and listed at the end of the
run ("could not run: <suite> suite ..." when no test of a suite ran,
"skipped: <test>: <reason>" otherwise); scripts/test repeats these lines
in its final summary.

In CI (CI=true in the environment) a skip is a failure: a test that skips
because a component is missing (strongSwan, the NETCONF module, iperf3,
nft, the built vtysh, the allocation counter, root) has not checked what it
names, and CI must say so. The report names the test and the skip reason.
The only exceptions are the reasons in ALLOWED_IN_CI below, each with why.
"""
import collections
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))

CI = os.environ.get("CI", "").lower() == "true"

# Skip reasons that stay skips in CI: (pattern on the reason, why).
ALLOWED_IN_CI = (
    # tests/topo/test_datapath.py::test_no_allocation_per_packet counts
    # malloc calls with an LD_PRELOAD library; under the ASan+UBSan vpnd
    # (scripts/test's second namespace pass) the sanitizer owns malloc, so
    # the count cannot be taken there. The plain pass runs it.
    (re.compile(r"^sanitizer build: malloc is the sanitizer's"),
     "the sanitizer owns malloc (the plain pass runs this test)"),
)

_collected = collections.Counter()  # suite -> tests collected
_skipped = {}  # nodeid -> (suite, reason, allowed-in-CI why or None)
_collect_skips = []  # (nodeid, reason, allowed why or None): whole files


def _suite(nodeid):
    """The test directory a test belongs to: topo, interop, vtysh, ..."""
    return nodeid.split("/", 1)[0] if "/" in nodeid else nodeid.split("::")[0]


def _reason(rep):
    lr = rep.longrepr
    text = lr[2] if isinstance(lr, tuple) and len(lr) == 3 else str(lr)
    return text[len("Skipped: "):] if text.startswith("Skipped: ") else text


def _allowed(reason):
    for pattern, why in ALLOWED_IN_CI:
        if pattern.search(reason):
            return why
    return None


@pytest.fixture
def report(request):
    """report(line): a figure or event for the run's log, printed even when
    the test passes (after the progress dots), and kept with the test's
    captured output."""
    plugins = request.config.pluginmanager
    tr = plugins.get_plugin("terminalreporter")
    capman = plugins.get_plugin("capturemanager")

    def out(line):
        print(line)
        if tr is not None and capman is not None:
            with capman.global_and_fixture_disabled():
                if getattr(tr._tw, "width_of_current_line", 1):
                    tr.write("\n")
                tr.write_line(f"  {line.strip()}")
    return out


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        _collected[_suite(item.nodeid)] += 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    rep = (yield).get_result()
    if not rep.skipped or hasattr(rep, "wasxfail"):
        return
    reason = _reason(rep)
    why = _allowed(reason)
    _skipped[item.nodeid] = (_suite(item.nodeid), reason, why)
    if CI and why is None:
        rep.outcome = "failed"
        rep.longrepr = (f"{item.nodeid} skipped, a failure in CI (CI=true): "
                        f"{reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    rep = (yield).get_result()
    if rep.skipped:
        reason = _reason(rep)
        _collect_skips.append((rep.nodeid, reason, _allowed(reason)))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    # A whole file skipped at collection has no test report to turn into a
    # failure; in CI it fails the session instead (listed in the summary).
    if CI and any(why is None for _, _, why in _collect_skips):
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _tag(why):
    if why is not None:
        return f" (allowed in CI: {why})"
    return " (a failure in CI)" if CI else ""


def _tests(n):
    return f"{n} test" if n == 1 else f"{n} tests"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _skipped and not _collect_skips:
        return
    tr = terminalreporter
    tr.section("tests that could not run" + (" (CI=true)" if CI else ""))
    by_suite = collections.defaultdict(list)
    for nodeid, (suite, reason, why) in _skipped.items():
        by_suite[suite].append((nodeid, reason, why))
    for suite in sorted(by_suite):
        total = _collected[suite]
        groups = collections.defaultdict(list)  # (reason, why) -> nodeids
        for nodeid, reason, why in by_suite[suite]:
            groups[(reason, why)].append(nodeid)
        for (reason, why), nodeids in groups.items():
            n = len(nodeids)
            if n == total:
                what = f"{suite} suite ({_tests(n)})"
            elif n > 3:
                files = sorted({i.split("::")[0] for i in nodeids})
                what = (f"{n} of {_tests(total)} of the {suite} suite "
                        f"({', '.join(files)})")
            else:
                for nodeid in nodeids:
                    tr.write_line(f"skipped: {nodeid}: {reason}{_tag(why)}")
                continue
            tr.write_line(f"could not run: {what}: {reason}{_tag(why)}")
    for nodeid, reason, why in _collect_skips:
        tr.write_line(f"could not run: {nodeid} (whole file): "
                      f"{reason}{_tag(why)}")
