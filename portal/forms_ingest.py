"""The seizure record that goes with an upload: the upload API's fields (``EvidenceUploadSerializer``)."""

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from access.models import LegalAuthority
from evidence.hooks import source_readers
from sources.choices import SourceKind

# The acquisition's seizure_reference column holds 300 characters.
REFERENCE_MAX = 300


def split_lines(text: str) -> list[str]:
    """One entry per line (commas also separate seal numbers typed on one line); blanks dropped."""
    return [part.strip() for part in re.split(r"[\r\n]+", text or "") if part.strip()]


class SeizureForm(forms.Form):
    """Warrant (from the case's legal authorities), references, seals, participants, place and source."""

    legal_authority = forms.TypedChoiceField(
        label=_("Legal authority"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("the warrant or other authority this seizure was made under (the case's authorities)"),
    )
    seizure_reference = forms.CharField(
        label=_("Seizure reference"),
        required=False,
        max_length=200,
        help_text=_("the seizure record's number, or the reference of an authority not listed above"),
    )
    seal_numbers = forms.CharField(
        label=_("Seal numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("one per line, or separated by commas"),
    )
    participants = forms.CharField(
        label=_("Participants present"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("one person per line: name and capacity (e.g. the suspect's counsel, a witness)"),
    )
    location = forms.CharField(
        label=_("Location"),
        required=False,
        max_length=300,
        help_text=_("where the acquisition took place"),
    )
    source_kind = forms.ChoiceField(
        label=_("What the upload is"),
        required=False,
        initial="files",
        choices=[
            ("files", _("plain files")),
            ("auto", _("recognise it from what was stored")),
            *SourceKind.choices,
        ],
        help_text=_(
            "a messenger export or an extraction report is also read: its messages, device paths and hashes"
        ),
    )
    time_zone = forms.CharField(
        label=_("Time zone of the export"),
        required=False,
        initial="Asia/Seoul",
        max_length=64,
        help_text=_("for dates the export writes without an offset"),
    )
    source = forms.CharField(
        label=_("Source description"),
        required=False,
        max_length=300,
        help_text=_("where the files came from, e.g. the seized phone's make and serial number"),
    )

    def __init__(self, *args: Any, authorities: list[LegalAuthority], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authorities = {authority.pk: authority for authority in authorities}
        field = self.fields["legal_authority"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("— none listed; type the reference below —"))] + [
            (authority.pk, f"{authority.get_kind_display()} {authority.number}") for authority in authorities
        ]

    def clean_seal_numbers(self) -> list[str]:
        seals = [
            seal.strip()
            for line in split_lines(self.cleaned_data["seal_numbers"])
            for seal in line.split(",")
        ]
        seals = [seal for seal in seals if seal]
        too_long = [seal for seal in seals if len(seal) > 100]
        if too_long:
            raise forms.ValidationError(
                _("a seal number has at most 100 characters: %(seal)s…") % {"seal": too_long[0][:20]}
            )
        return seals

    def clean_source_kind(self) -> str:
        kind = self.cleaned_data.get("source_kind") or "files"
        if kind not in {"files", "auto"} and kind not in source_readers():
            raise forms.ValidationError(_("this kind of source is not configured here"))
        return kind

    def clean_time_zone(self) -> str:
        name = (self.cleaned_data.get("time_zone") or "Asia/Seoul").strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("name a time zone such as Asia/Seoul or UTC")) from None
        return name

    def clean_participants(self) -> list[str]:
        people = split_lines(self.cleaned_data["participants"])
        if any(len(person) > 200 for person in people):
            raise forms.ValidationError(_("each participant line has at most 200 characters"))
        return people

    def seizure_reference_text(self) -> str:
        """The acquisition's seizure reference: the chosen authority, then the typed reference."""
        parts = []
        authority = self.authorities.get(self.cleaned_data.get("legal_authority") or 0)
        if authority is not None:
            parts.append(authority_label(authority))
        if self.cleaned_data.get("seizure_reference"):
            parts.append(self.cleaned_data["seizure_reference"])
        return "; ".join(parts)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and len(self.seizure_reference_text()) > REFERENCE_MAX:
            raise forms.ValidationError(
                _(
                    "the authority and the seizure reference together are longer than %(max)s characters: "
                    "shorten the reference"
                )
                % {"max": REFERENCE_MAX}
            )
        return data


def authority_label(authority: LegalAuthority) -> str:
    """What goes on the acquisition and its events, the same whatever language the uploader reads:
    "search and seizure warrant (압수·수색영장) 2026-1234 (Seoul Central District Court)"."""
    with translation.override("en"):
        kind = str(authority.get_kind_display())
    court = f" ({authority.court})" if authority.court else ""
    return f"{kind} {authority.number}{court}"
