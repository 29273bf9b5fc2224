"""A message's provenance in the court report's data and the export bundle's manifest: the acquisition, the
chat, the message id and time, the export file by item and SHA-256 (never the text)."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from exhibits.reports.data import report_data
from exhibits.reports.render import report_render
from exhibits.services import exhibit_create
from tests.exhibits.test_bundles import export, ledger_key, run_verifier
from tests.factories import SIGNER, chat_with_messages, jpeg_bytes, pii_calls, scenario, stored_item, team

pytestmark = pytest.mark.django_db
__all__ = ["pii_calls"]  # the fixture, imported so pytest finds it


def test_the_report_shows_where_a_message_carried_the_item() -> None:
    t = team()
    export_file = stored_item(case=t.case, data=b'{"messages": []}', actor=t.lead, name="result.json")
    photo = stored_item(case=t.case, data=jpeg_bytes(), actor=t.lead, name="scene.jpg")
    chat_with_messages(source_item=export_file, media_item=photo, text="never in the report")
    exhibit = exhibit_create(case=t.case, item_ids=[photo.pk], description="posted photo", actor=t.lead)
    data = report_data(case=t.case, exhibits=[exhibit], language="ko")
    (section,) = list(data.exhibits)
    (row,) = section.items[0].sources
    assert (row.chat, row.message, row.acquisition_id) == ("telegram:555", "1", export_file.acquisition_id)
    assert row.source_item_id == export_file.pk and row.source_sha256 == export_file.blob_id
    assert "never in the report" not in repr(row)
    out = io.BytesIO()
    result = report_render(
        data=report_data(case=t.case, exhibits=[exhibit], language="ko"),
        out=out,
        report_id="R-MSG",
        version=1,
        signer=SIGNER,
    )
    assert "telegram:555 #1" in result.text and "never in the report" not in result.text


def test_the_bundle_manifest_carries_it_and_still_verifies(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    export_file = stored_item(case=s.t.case, data=b'{"messages": []}', actor=s.t.lead, name="result.json")
    chat_with_messages(source_item=export_file, media_item=s.items[0])
    path, private = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    (row,) = manifest["source_provenance"][str(s.items[0].pk)]
    assert row["chat"] == "telegram:555" and row["message"] == "1"
    assert row["source_sha256"] == export_file.blob_id
    code, output = run_verifier(path, "--key", str(private), "--ledger-key", ledger_key())
    assert code == 0, output
