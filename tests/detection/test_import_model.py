"""manage.py import_model: the JSON contract, human output, enabling with a re-scan, exit codes."""

import json
from functools import partial

import numpy as np
import pytest

from detection.models import ModelPack, ScanJob
from tests.commands import command_run
from tests.factories import CaseFactory, UserFactory, encode, stored_item, tiny_model, write_pack

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_registry")]


run_import = partial(command_run, "import_model")


def test_json_import_then_enable_with_a_case_rescan(tmp_path):
    UserFactory(username="admin-kim")
    case = CaseFactory(number="2024-SEOUL-0099")
    stored_item(
        case=case,
        data=encode(np.zeros((8, 8, 3), np.uint8), "PNG"),
        actor=UserFactory(),
        name="a.png",
        mime="image/png",
    )
    path, manifest = write_pack(tmp_path / "pack")

    code, out, err = run_import(str(path), "--json", "--actor", "admin-kim")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["created"] is True and payload["enabled"] is False and payload["jobs"] == []
    assert payload["pack"]["sha256"] == manifest["sha256"] and payload["pack"]["imported_by"] == "admin-kim"
    assert payload["pack"]["detectors"] == ["pack:brightness-test"]

    code, out, err = run_import(str(path), "--enable", "--rescan-case", "2024-SEOUL-0099", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["created"] is False and payload["enabled"] is True
    (job,) = payload["jobs"]
    assert job["detector"] == "pack:brightness-test" and job["total"] == 1
    assert ScanJob.objects.get(pk=job["id"]).case == case
    assert payload["rescan_offer"]["commands"] == [
        "manage.py rescan --detector pack:brightness-test [--case NUMBER]"
    ]


def test_human_output_offers_the_rescan(tmp_path):
    path, _ = write_pack(tmp_path / "pack", as_zip=True)
    code, out, _ = run_import(str(path), "--enable")
    assert code == 0
    assert "imported pack brightness-test 1.0.0" in out
    assert "validation: not validated" in out
    assert "re-scan offered" in out and "manage.py rescan --detector pack:brightness-test" in out

    v2, _ = write_pack(tmp_path / "v2", model=tiny_model(weight=3.0), version="1.1.0")
    code, out, _ = run_import(str(v2), "--enable", "--rescan-all")
    assert code == 0
    assert "replacing version 1.0.0 (its annotations stay)" in out and "re-scan job" in out
    assert ModelPack.objects.get(enabled=True).version == "1.1.0"


def test_refusals_exit_1_with_the_reason(tmp_path):
    path, _ = write_pack(tmp_path / "pack", preprocessing={"layout": "CHW"})
    code, out, err = run_import(str(path))
    assert code == 1 and out == ""
    assert "preprocessing.layout: must be one of NCHW, NHWC; got 'CHW'" in err

    path, _ = write_pack(tmp_path / "swapped")
    (path / "model.onnx").write_bytes(tiny_model(bias=0.0))
    code, _, err = run_import(str(path))
    assert code == 1 and "SHA-256" in err
    assert not ModelPack.objects.exists()


def test_usage_errors_exit_2(tmp_path):
    path, _ = write_pack(tmp_path / "pack")
    code, _, err = run_import(str(path), "--rescan-all")
    assert code == 2 and "need --enable" in err
    code, _, err = run_import(str(path), "--enable", "--rescan-case", "NO-SUCH-CASE")
    assert code == 1 and "no case numbered" in err
    assert not ModelPack.objects.exists()  # the case is checked before anything is imported


run_packs = partial(command_run, "model_packs")


def test_model_packs_lists_enables_and_disables(tmp_path):
    UserFactory(username="admin-lee")
    code, out, _ = run_packs()
    assert code == 0 and "no model packs imported" in out
    for version, weight in (("1.0.0", 8.0), ("1.1.0", 6.0)):
        path, _ = write_pack(tmp_path / version, model=tiny_model(weight=weight), version=version)
        assert run_import(str(path))[0] == 0

    code, out, _ = run_packs("enable", "brightness-test", "1.0.0", "--actor", "admin-lee")
    assert code == 0 and "enabled brightness-test 1.0.0 as pack:brightness-test" in out
    code, out, _ = run_packs("enable", "brightness-test", "--rescan-all", "--json")
    payload = json.loads(out)
    assert payload["pack"]["version"] == "1.0.0"  # no version given: the enabled one
    code, out, _ = run_packs("enable", "brightness-test", "1.1.0", "--json")
    assert json.loads(out)["replaced_version"] == "1.0.0"

    code, out, _ = run_packs("list", "--json")
    states = {(p["version"], p["enabled"]) for p in json.loads(out)["packs"]}
    assert states == {("1.0.0", False), ("1.1.0", True)}

    code, out, _ = run_packs("disable", "brightness-test", "--actor", "admin-lee")
    assert code == 0 and "disabled brightness-test 1.1.0" in out
    pack = ModelPack.objects.get(version="1.1.0")
    assert not pack.enabled and pack.disabled_by is not None and pack.disabled_by.username == "admin-lee"

    code, _, err = run_packs("enable", "no-such-pack")
    assert code == 1 and "no model pack no-such-pack" in err
    code, _, err = run_packs("disable")
    assert code == 2 and "needs a pack NAME" in err
