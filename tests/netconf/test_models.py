"""yanglint validates every YANG model and every example instance document
in configs/netconf/ (no root needed)."""
import glob
import os
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NC_YANG = os.path.join(REPO, "frr-plugin", "netconf", "yang")
VPND_YANG = os.path.join(REPO, "yang", "vpnd.yang")
IETF_NETCONF = os.path.join(NC_YANG, "ietf-netconf@2013-09-29.yang")
INSTANCES = sorted(glob.glob(os.path.join(REPO, "configs", "netconf",
                                          "*.xml")))


def yanglint(*args):
    res = subprocess.run(["yanglint", *args], capture_output=True,
                         text=True, timeout=60)
    return res.returncode, res.stdout + res.stderr


def instance_type(path):
    """edit-*.xml: <edit-config> content; *state*.xml: <get> data with
    state; anything else: a configuration datastore."""
    name = os.path.basename(path)
    if name.startswith("edit-"):
        return "edit"
    return "data" if "state" in name else "config"


def lint_instance(path):
    kind = instance_type(path)
    models = [VPND_YANG] + ([IETF_NETCONF] if kind == "edit" else [])
    return yanglint("-p", NC_YANG, "-t", kind, *models, path)


def test_models():
    models = [os.path.join(REPO, "yang", f) for f in
              os.listdir(os.path.join(REPO, "yang")) if f.endswith(".yang")]
    models += glob.glob(os.path.join(NC_YANG, "*.yang"))
    for m in models:
        rc, out = yanglint("-p", NC_YANG, m)
        assert rc == 0, f"yanglint {m}: {out}"


def test_there_are_instances():
    kinds = {instance_type(p) for p in INSTANCES}
    assert kinds == {"config", "data", "edit"}, INSTANCES


@pytest.mark.parametrize("path", INSTANCES, ids=os.path.basename)
def test_instance_validates(path):
    rc, out = lint_instance(path)
    assert rc == 0, f"{path}: {out}"


def test_bad_instance_refused(tmp_path):
    """The check has teeth: a too long pre-shared key is refused with the
    model's message."""
    src = open(os.path.join(REPO, "configs", "netconf",
                            "vpnd-example.xml")).read()
    bad = tmp_path / "bad.xml"
    bad.write_text(src.replace("example-only-change-me", "k" * 129))
    rc, out = lint_instance(str(bad))
    assert rc != 0 and "pre-shared-key: 1 to 128" in out, out


def example_with(tmp_path, *edits):
    """vpnd-example.xml with (old, new) replacements, as a file to lint."""
    src = open(os.path.join(REPO, "configs", "netconf",
                            "vpnd-example.xml")).read()
    for old, new in edits:
        assert old in src, old
        src = src.replace(old, new, 1)
    path = tmp_path / "edited.xml"
    path.write_text(src)
    return str(path)


@pytest.mark.parametrize("old,new,msg", [
    ("<max-packet>9000<", "<max-packet>1279<",
     "max-packet: 1280 to 65535 bytes"),
    ("<max-packet>9000<", "<max-packet>65536<",
     "max-packet: 1280 to 65535 bytes"),
    ("<cookie-secret-lifetime>60<", "<cookie-secret-lifetime>9<",
     "cookie-secret-lifetime: 10 to 86400 seconds"),
    ("<cookie-threshold>10<", "<cookie-threshold>100001<",
     "cookie-threshold: 0 to 100000 half-open IKE SAs"),
    ("<half-open-limit>500<", "<half-open-limit>1000001<",
     "half-open-limit: 0 to 1000000 half-open IKE SAs"),
], ids=["max-packet-low", "max-packet-high", "secret-lifetime",
        "cookie-threshold", "half-open-limit"])
def test_ike_ranges(tmp_path, old, new, msg):
    rc, out = lint_instance(example_with(tmp_path, (old, new)))
    assert rc != 0 and msg in out, out


def test_ike_zero_means_no_limit_or_always(tmp_path):
    """0 is valid where ike.h gives it a meaning (cookies always, no
    limit); not for the secret's lifetime or the packet size."""
    zeros = [(f"<{leaf}>{v}<", f"<{leaf}>0<") for leaf, v in (
        ("cookie-threshold", 10), ("cookie-threshold-per-address", 2),
        ("block-threshold", 4), ("half-open-limit", 500),
        ("peer-sa-limit", 4))]
    rc, out = lint_instance(example_with(tmp_path, *zeros))
    assert rc == 0, out
    for leaf, v in (("cookie-secret-lifetime", 60), ("max-packet", 9000)):
        rc, out = lint_instance(example_with(
            tmp_path, (f"<{leaf}>{v}<", f"<{leaf}>0<")))
        assert rc != 0 and f"{leaf}: " in out, out


def test_at_most_64_prefixes_to_check(tmp_path):
    """traffic-selector + route + accept-prefix <= 64 per connection (the
    engine's IKE_CONN_MAX_LIMIT): connection azure has two routes and one
    accept-prefix."""
    def with_accepts(n):
        extra = "".join(f"<accept-prefix>10.100.{i}.0/24</accept-prefix>"
                        for i in range(n))
        return example_with(tmp_path, ("<accept-prefix>10.21.0.0/16",
                                       extra + "<accept-prefix>10.21.0.0/16"))
    rc, out = lint_instance(with_accepts(61))
    assert rc == 0, out
    rc, out = lint_instance(with_accepts(62))
    assert rc != 0 and "at most 64 traffic-selector, route and " \
        "accept-prefix entries" in out, out
