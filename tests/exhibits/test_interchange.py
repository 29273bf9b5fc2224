"""exhibits.interchange: VICS JSON and CASE/UCO JSON-LD exports, their categories, custody and refusals."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from access.selectors import case_get_for
from detection.models.runs import ReviewStatus
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from exhibits import interchange
from exhibits.models import Exhibit
from exhibits.services import exhibit_create
from haetae.errors import AccessDenied, NotFound, RejectedInput
from parties.choices import LinkConfidence
from tests.factories import detection_rows, full_team, link, person, photo_item
from tests.schema import openapi_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    t = full_team()
    victim = person(t.case, pseudonym="V-1", actor=t.lead)
    minor = person(t.case, pseudonym="V-2", actor=t.lead, minor=True)
    synthetic = photo_item(t.case, t.lead, which="astronaut", name="deep.jpg")
    real = photo_item(t.case, t.lead, which="coffee", name="plain.jpg")
    unreviewed = photo_item(t.case, t.lead, which="chelsea", name="lead-only.jpg")
    child = photo_item(t.case, t.lead, which="camera", name="minor.jpg")
    link(synthetic, victim, actor=t.lead)
    link(real, victim, actor=t.lead)
    link(unreviewed, victim, confidence=LinkConfidence.SUSPECTED, actor=t.lead)
    link(child, minor, actor=t.lead)
    for item, label, category in [
        (synthetic, "FEMALE_BREAST_EXPOSED", "exposed"),
        (synthetic, "deepfake", "model_pack"),
        (real, "BUTTOCKS_EXPOSED", "exposed"),
    ]:
        _, annotation = detection_rows(item=item, name=f"det-{label}", label=label)
        annotation.category = category
        annotation.review_status = ReviewStatus.CONFIRMED
        annotation.reviewed_by = t.investigator
        annotation.reviewed_at = timezone.now()
        annotation.save()
    # An unreviewed explicit finding: a detector's guess never makes a category.
    detection_rows(item=unreviewed, name="det-guess", label="FEMALE_GENITALIA_EXPOSED")
    return t, {"synthetic": synthetic, "real": real, "unreviewed": unreviewed, "child": child}


def _case(t, user=None):
    return case_get_for(user=user or t.lead, number=t.case.number)


def _by_md5(document):
    return {media["MD5"]: media for media in document["value"]}


def test_vics_export_has_media_files_categories_from_confirmed_findings_only_and_logs_each_item(world):
    t, items = world
    export = interchange.vics_export(case=_case(t), actor=t.lead, recipient="CAID desk")
    document = json.loads(export.body)
    assert interchange.vics_validate(document) == []
    assert document["@odata.context"] == interchange.VICS_ODATA_CONTEXT
    media = _by_md5(document)
    categories = {name: media[item.blob.md5.upper()]["Category"] for name, item in items.items()}
    codes = {c.name: c.code for c in interchange.CATEGORIES.values()}
    assert categories == {
        "synthetic": codes["synthetic_ncii_identified_victim"],
        "real": codes["ncii_identified_victim"],
        "unreviewed": codes["uncategorised"],
        "child": codes["minor_depicted_refer"],
    }
    synthetic = media[items["synthetic"].blob.md5.upper()]
    assert synthetic["SHA1"] == items["synthetic"].blob.sha1.upper()
    assert synthetic["VictimIdentified"] is True
    assert {"PropertyName": "SHA256", "PropertyValue": items["synthetic"].blob.sha256} in synthetic[
        "MediaMetadata"
    ]
    (media_file,) = synthetic["MediaFiles"]
    assert media_file["FileName"] == "deep.jpg"
    assert set(interchange.VICS_MEDIAFILE_REQUIRED) <= set(media_file)
    basis = [
        m["PropertyValue"] for m in synthetic["MediaMetadata"] if m["PropertyName"] == "haetae:category_basis"
    ]
    assert any("confirmed by" in b for b in basis) and any("depicts V-1" in b for b in basis)
    events = CustodyEvent.objects.filter(action=CustodyAction.EXPORTED).order_by("item_id")
    assert sorted(e.item_id or 0 for e in events) == sorted(i.pk for i in items.values())
    assert {e.details["export_sha256"] for e in events} == {export.sha256}
    assert {e.to_custodian for e in events} == {"CAID desk"}
    assert all(e.details["format"] == interchange.VICS_FORMAT for e in events)


def test_exhibit_approval_categorises_an_item_without_confirmed_findings(world):
    t, items = world
    exhibit = exhibit_create(
        case=t.case, item_ids=[items["unreviewed"].pk], description="posted copy", actor=t.lead
    )
    export = interchange.vics_export(case=_case(t), actor=t.lead, exhibit_numbers=[exhibit.number])
    (only,) = json.loads(export.body)["value"]
    assert only["Category"] == interchange.CATEGORIES["uncategorised"].code  # a draft exhibit is not approval
    Exhibit.objects.filter(pk=exhibit.pk).update(status="approved")
    export = interchange.vics_export(case=_case(t), actor=t.lead, exhibit_numbers=[exhibit.number])
    (only,) = json.loads(export.body)["value"]
    assert only["Category"] == interchange.CATEGORIES["exhibited_pertinent"].code


def test_exports_refuse_unknown_and_withdrawn_exhibits_and_other_roles(world):
    t, items = world
    with pytest.raises(NotFound, match="E-404"):
        interchange.vics_export(case=_case(t), actor=t.lead, exhibit_numbers=["E-404"])
    exhibit = exhibit_create(case=t.case, item_ids=[items["real"].pk], description="x", actor=t.lead)
    Exhibit.objects.filter(pk=exhibit.pk).update(status="withdrawn")
    with pytest.raises(RejectedInput, match="withdrawn"):
        interchange.case_uco_export(case=_case(t), actor=t.lead, exhibit_numbers=[exhibit.number])
    for user in (t.support, t.analyst, t.prosecutor, t.auditor):
        with pytest.raises(AccessDenied):
            interchange.interchange_case_get(user=user, number=t.case.number)
    assert interchange.interchange_case_get(user=t.investigator, number=t.case.number).pk == t.case.pk
    assert not CustodyEvent.objects.filter(action=CustodyAction.EXPORTED).exists()


def test_case_uco_export_is_well_formed_with_files_hashes_and_custody_actions(world):
    t, items = world
    export = interchange.case_uco_export(case=_case(t), actor=t.investigator)
    assert interchange.case_uco_validate(export.body) == []
    document = json.loads(export.body)
    assert document["@context"]["case-investigation"].startswith("https://ontology.caseontology.org/")
    graph = document["@graph"]
    files = [n for n in graph if n["@type"] == "observable:File"]
    assert len(files) == len(items)
    facets = [f for n in files for f in n["core:hasFacet"]]
    hashes = {
        h["types:hashValue"]["@value"]
        for f in facets
        if f["@type"] == "observable:ContentDataFacet"
        for h in f["observable:hash"]
    }
    assert items["real"].blob.sha256.upper() in hashes and items["real"].blob.md5.upper() in hashes
    actions = [n for n in graph if n["@type"] == "case-investigation:InvestigativeAction"]
    ledger = CustodyEvent.objects.filter(item_id__in=[i.pk for i in items.values()]).exclude(
        action=CustodyAction.EXPORTED
    )
    assert len(actions) == ledger.count()
    leaves = {r["core:externalIdentifier"] for a in actions for r in a["core:externalReference"]}
    assert set(ledger.values_list("leaf_hash", flat=True)) <= leaves
    performers = {n["@id"]: n["core:name"] for n in graph if n["@type"] == "identity:Identity"}
    assert t.lead.username in performers.values()
    assert all(a["action:performer"]["@id"] in performers for a in actions)


def test_the_structural_check_finds_duplicate_ids_undeclared_types_and_dangling_references():
    bad = {
        "@context": {"core": "https://ontology.unifiedcyberontology.org/uco/core/"},
        "@graph": [
            {"@id": "kb:a", "@type": "core:Nonsense", "core:name": "x"},
            {"@id": "kb:a", "@type": "observable:File", "other:thing": 1, "core:object": [{"@id": "kb:zz"}]},
        ],
    }
    problems = "\n".join(interchange.case_uco_validate(json.dumps(bad).encode()))
    assert "kb:a is used 2 times" in problems
    assert "core:Nonsense is not among the declared" in problems
    assert "other:thing uses no prefix" in problems
    assert "reference to kb:zz" in problems
    assert interchange.case_uco_validate(b"{not json") != []


def test_the_vics_check_holds_the_document_to_the_field_list():
    document = {
        "@odata.context": interchange.VICS_ODATA_CONTEXT,
        "value": [
            {
                "MediaID": 1,
                "Category": 7,
                "MD5": "abc",
                "SHA1": "0" * 40,
                "MediaSize": True,
                "Invented": 1,
                "MediaFiles": [{"MD5": "1" * 32, "FileName": "a"}],
            }
        ],
    }
    problems = "\n".join(interchange.vics_validate(document))
    assert "Invented is not in the documented" in problems
    assert "Category: 7 is not a code" in problems
    assert "MD5: not 32 upper-case hex" in problems
    assert "MediaSize: bool" in problems
    assert "required field FilePath is missing" in problems


def test_commands_write_the_files_and_refuse_without_the_role(world, tmp_path):
    t, _items = world
    out = tmp_path / "case.vics.json"
    stdout = StringIO()
    call_command(
        "export_vics", t.case.number, "--out", str(out), "--actor", t.lead.username, "--json", stdout=stdout
    )
    summary = json.loads(stdout.getvalue())
    assert summary["items"] == 4 and interchange.vics_validate(json.loads(out.read_bytes())) == []
    uco = tmp_path / "case.jsonld"
    call_command("export_case_uco", t.case.number, "--out", str(uco), "--actor", t.investigator.username)
    assert interchange.case_uco_validate(uco.read_bytes()) == []
    with pytest.raises(SystemExit) as exited:
        call_command(
            "export_vics", t.case.number, "--out", str(tmp_path / "x.json"), "--actor", t.support.username
        )
    assert exited.value.code == 1
    with pytest.raises(SystemExit) as exited:
        call_command("export_vics", t.case.number, "--out", str(out), "--actor", t.lead.username)
    assert exited.value.code == 2  # never overwrites
    stderr = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "export_vics",
            t.case.number,
            "--out",
            str(tmp_path / "y.json"),
            "--exhibits",
            "E-999",
            "--actor",
            t.lead.username,
            stderr=stderr,
        )
    assert exited.value.code == 1 and "E-999" in stderr.getvalue()
    assert not (tmp_path / "y.json").exists()


def test_api_actions_answer_attachments_for_the_lead_and_refuse_support(world):
    t, _items = world
    client = APIClient()
    client.force_authenticate(t.lead)
    response = client.post(f"/api/v1/cases/{t.case.number}/interchange/vics/", {}, format="json")
    assert response.status_code == 200
    assert interchange.vics_validate(json.loads(response.content)) == []
    assert response["X-Haetae-Export-SHA256"]
    response = client.post(f"/api/v1/cases/{t.case.number}/interchange/case-uco/", {}, format="json")
    assert response.status_code == 200 and response["Content-Type"] == "application/ld+json"
    client.force_authenticate(t.support)
    refused = client.post(f"/api/v1/cases/{t.case.number}/interchange/vics/", {}, format="json")
    assert refused.status_code == 403 and "lead" in refused.json()["detail"]


def test_the_schema_documents_the_interchange_actions_without_warnings():
    paths = openapi_schema()["paths"]
    vics = paths["/api/v1/cases/{number}/interchange/vics/"]["post"]
    uco = paths["/api/v1/cases/{number}/interchange/case-uco/"]["post"]
    assert "application/json" in vics["responses"]["200"]["content"]
    assert "application/ld+json" in uco["responses"]["200"]["content"]
    assert {"400", "403", "404"} <= set(vics["responses"]) and {"400", "403", "404"} <= set(uco["responses"])


def test_exports_read_in_chunks_give_the_same_documents(world, monkeypatch):
    t, items = world
    exhibit = exhibit_create(
        case=t.case, item_ids=[items["real"].pk, items["child"].pk], description="two", actor=t.lead
    )
    Exhibit.objects.filter(pk=exhibit.pk).update(status="approved")
    case = _case(t)
    ordered = list(interchange.interchange_items(case=case))
    whole = interchange.item_category_bases(item_ids=[i.pk for i in ordered])
    uco_whole = interchange.case_uco_document(
        case=case, items=ordered, exhibit_numbers=interchange._exhibit_numbers(ordered)
    )
    monkeypatch.setattr(interchange, "_IN_CHUNK", 1)
    assert interchange.item_category_bases(item_ids=[i.pk for i in ordered]) == whole
    assert whole[items["real"].pk].exhibits == [f"exhibit {exhibit.number} (approved)"]
    uco_chunked = interchange.case_uco_document(
        case=case, items=ordered, exhibit_numbers=interchange._exhibit_numbers(ordered)
    )
    assert uco_chunked == uco_whole


def test_case_uco_export_conforms_to_the_official_case_validator_without_warnings(world, tmp_path):
    """``case_validate`` from case-utils (the CASE community's validator, its ontologies shipped inside
    the package, no network) at its strictest: no result of any severity allowed, and no concept that the
    ontology does not define."""
    import warnings

    from case_utils.case_validate import validate

    t, _ = world
    export = interchange.case_uco_export(case=_case(t), actor=t.investigator)
    path = tmp_path / "case.jsonld"
    path.write_bytes(export.body)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = validate(str(path), allow_infos=False, allow_warnings=False, inference="none")
    assert result.conforms, result.text
    assert "Results (" not in result.text, result.text
    cdo_warnings = [str(w.message) for w in caught if "CDO" in type(w.message).__name__ + str(w.message)]
    assert cdo_warnings == []
