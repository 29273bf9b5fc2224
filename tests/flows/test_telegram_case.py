"""A Telegram export from seizure to a confirmed link: `ingest` recognises it, the messages API lists its
messages with their media items, the export's suggestion waits as suspected, and an investigator confirms it
through the ordinary link API; the ledger then verifies clean."""

import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from evidence.verify import vault_verify
from parties.models import ItemChannelLink
from tests.sources.exports import CHAT_ID, write_telegram_export

pytestmark = pytest.mark.django_db
NUMBER = "2024-SEOUL-0913"


def test_telegram_export_to_confirmed_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_user", "kim", "--role", "investigator", "--json")
    call_command("create_case", NUMBER, "--title", "Room 7", "--actor", "kim")
    capsys.readouterr()
    export = write_telegram_export(tmp_path / "ChatExport_2024-01-05")

    out = io.StringIO()
    call_command("ingest", NUMBER, str(export), "--actor", "kim", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["source_kind"] == "telegram" and result["counts"]["messages"] == 4

    kim = APIClient()
    kim.force_authenticate(get_user_model().objects.get(username="kim"))
    listed = kim.get(f"/api/v1/cases/{NUMBER}/messages/", {"has_media": "true"}).json()["results"]
    assert [m["key"] for m in listed] == ["1", "3"]
    photo_id = listed[0]["items"][0]
    assert listed[0]["text"] is None  # no reason given: no text

    read = kim.get(f"/api/v1/cases/{NUMBER}/messages/", {"item": photo_id, "reason": "who posted it"}).json()
    assert read["results"][0]["text"] == "first"
    assert read["results"][0]["reference"] == f"t.me/c/{CHAT_ID}/1"

    links = kim.get(f"/api/v1/cases/{NUMBER}/links/item-channel/").json()
    suggestion = next(link for link in links["results"] if link["item"] == photo_id)
    assert (suggestion["source"], suggestion["confidence"]) == ("export", "suspected")

    confirmed = kim.post(
        f"/api/v1/cases/{NUMBER}/links/item-channel/",
        {
            "item": photo_id,
            "channel": suggestion["channel"],
            "message_reference": suggestion["message_reference"],
            "posted_at": suggestion["posted_at"],
            "confidence": "confirmed",
        },
        format="json",
    )
    assert confirmed.status_code == 201, confirmed.content
    active = ItemChannelLink.objects.filter(item_id=photo_id, withdrawn_at__isnull=True).get()
    assert active.confidence == "confirmed" and active.source == "investigator"
    assert ItemChannelLink.objects.get(pk=suggestion["id"]).withdrawn_at is not None

    assert CustodyEvent.objects.filter(action=CustodyAction.VIEWED, purpose="who posted it").count() == 1
    assert vault_verify().ok
