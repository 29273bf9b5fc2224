"""The PII scan refuses text holding a sealed identity field, naming field and pseudonym, never the value."""

from pathlib import Path

import pytest

from evidence.models import CustodyEvent
from exhibits.reports.data import report_data
from exhibits.reports.pii import pii_scan
from exhibits.services import exhibit_update
from haetae.errors import RejectedInput
from parties.services.people import Identity, identity_set, person_record
from tests.factories import VICTIM, VICTIM_KO, render_to, report_case, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_with_victims():
    t = team()
    person_record(case=t.case, kind="victim", actor=t.lead, identity=VICTIM)
    person_record(case=t.case, kind="victim", actor=t.lead, identity=VICTIM_KO)
    suspect = person_record(case=t.case, kind="suspect", actor=t.lead)
    identity_set(
        person=suspect,
        identity=Identity(name="Oh Dae-su", identifiers=(("resident_registration", "800101-1234567"),)),
        actor=t.lead,
        reason="from the warrant",
    )
    return t.case


def refusal(case, text: str) -> RejectedInput:
    with pytest.raises(RejectedInput) as caught:
        pii_scan(case=case, texts=["Exhibit E-001 shows V-1.", text])
    return caught.value


@pytest.mark.parametrize(
    ("text", "person", "field"),
    [
        ("posted by Kim  Ji-woo in March", "V-1", "name"),
        ("KIM JI-WOO", "V-1", "name"),
        ("kim ji woo", "V-1", "name"),
        ("Kim\nJi-woo", "V-1", "name"),
        ("call 010 2345 6789", "V-1", "contact"),
        ("01023456789", "V-1", "contact"),
        ("(010)2345-6789", "V-1", "contact"),
        ("born 2008.03.14", "V-1", "birth_date"),
        ("born 20080314", "V-1", "birth_date"),
        ("2008년 3월 14일생", "V-1", "birth_date"),
        ("account @jiwoo.kim.08 on Instagram", "V-1", "identifiers (instagram)"),
        ("피해자 박서연은", "V-2", "name"),
        ("피해자 박 서연", "V-2", "name"),
        ("write to SEOYEON@example.kr", "V-2", "contact"),
        ("born 2009-11-02", "V-2", "birth_date"),
        ("suspect Oh Dae-su", "S-1", "name"),
        ("RRN 800101 1234567", "S-1", "identifiers (resident_registration)"),
    ],
)
def test_each_identity_field_is_found_however_it_is_spaced(case_with_victims, text, person, field) -> None:
    error = refusal(case_with_victims, text)
    assert {"person": person, "field": field} in error.details["pii"]
    assert f"the {field} of {person}" in error.message
    for identity in (VICTIM, VICTIM_KO):
        for value in (
            identity.name,
            identity.contact,
            identity.birth_date,
            *(v for _, v in identity.identifiers),
        ):
            assert value.casefold() not in error.message.casefold()
            assert value.casefold() not in str(error.details).casefold()


@pytest.mark.parametrize(
    "text",
    [
        "Exhibit E-001 depicts V-1; V-2 and S-1 appear by pseudonym only.",
        "Kim Ji-won and Kimberly Ji-woon are other people",  # near names are not the name
        "sha256 a01023456789b0c and 9201023456789",  # digits inside longer runs are not the phone
        "2008-03-15 and 2018-03-14",  # other dates
    ],
)
def test_text_without_identity_passes(case_with_victims, text) -> None:
    pii_scan(case=case_with_victims, texts=[text])


def test_every_match_is_reported_once_and_a_case_without_identities_passes(case_with_victims) -> None:
    error = refusal(case_with_victims, "Kim Ji-woo, kim ji-woo, 박서연, 010-2345-6789")
    assert error.details["pii"] == [
        {"person": "V-1", "field": "name"},
        {"person": "V-1", "field": "contact"},
        {"person": "V-2", "field": "name"},
    ]
    other = team()
    person_record(case=other.case, kind="victim", actor=other.lead)  # a victim with no identity recorded
    pii_scan(case=other.case, texts=["Kim Ji-woo"])  # another case's people are not this case's


def test_the_scan_reads_identities_without_recording_a_person_read(case_with_victims) -> None:
    before = CustodyEvent.objects.count()
    refusal(case_with_victims, "Kim Ji-woo")
    assert CustodyEvent.objects.count() == before


def test_report_with_a_victims_name_in_an_exhibit_description_is_refused(tmp_path: Path) -> None:
    built = report_case(tmp_path / "seized", detectors=())
    draft = built.exhibits[1]
    exhibit_update(
        exhibit=draft, actor=built.lead, description="An image sent to Kim  Ji-woo with the same message."
    )
    data = report_data(case=built.case, exhibits=built.exhibits, language="en")
    result = render_to(tmp_path / "report.pdf", data)
    with pytest.raises(RejectedInput) as caught:
        pii_scan(case=built.case, texts=[result.text])
    assert caught.value.details["pii"] == [{"person": "V-1", "field": "name"}]
    assert "the name of V-1" in caught.value.message
    assert "Ji-woo" not in caught.value.message
    # The same report without it passes.
    exhibit_update(exhibit=draft, actor=built.lead, description="An image sent to V-1 with the same message.")
    data = report_data(case=built.case, exhibits=built.exhibits, language="ko")
    pii_scan(case=built.case, texts=[render_to(tmp_path / "report-ko.pdf", data).text])
