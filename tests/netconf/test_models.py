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
