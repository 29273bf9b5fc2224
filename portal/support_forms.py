"""Forms of the victim-support pages: each one shapes input for one support.services service."""

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from support.choices import ConsentGivenBy, ConsentKind, TakedownAddressee, TakedownPlatform

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_WHEN_HELP = _("leave empty for now; a time in Asia/Seoul unless your browser says otherwise")


def _when(label: "StrOrPromise") -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=False, widget=_WHEN, help_text=_WHEN_HELP)


class ConsentGiveForm(forms.Form):
    kind = forms.ChoiceField(label=_("Consent to"), choices=ConsentKind.choices)
    given_by = forms.ChoiceField(
        label=_("Given by"), choices=ConsentGivenBy.choices, initial=ConsentGivenBy.VICTIM
    )
    given_at = _when(_("Given at"))
    how = forms.CharField(
        label=_("How"), required=False, max_length=200, help_text=_("e.g. signed form, in person, by phone")
    )


class ConsentWithdrawForm(forms.Form):
    withdrawn_at = _when(_("Withdrawn at"))
    how = forms.CharField(label=_("How"), required=False, max_length=200)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Restricted note"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("stored encrypted; only support workers of this case can read it; never edited"),
    )


class HashExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=[("json", "JSON"), ("csv", "CSV")], initial="json")
    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=300,
        help_text=_("who the hashes go to, e.g. StopNCII, KCSC, a platform's trust and safety team"),
    )
    include_pseudonym = forms.BooleanField(
        label=_("Put the pseudonym in the file"),
        required=False,
        help_text=_("default: the file names nobody"),
    )


class TakedownDraftForm(forms.Form):
    addressee = forms.ChoiceField(label=_("Addressee"), choices=TakedownAddressee.choices)
    platform = forms.ChoiceField(label=_("Platform"), choices=TakedownPlatform.choices)
    target_url = forms.URLField(label=_("Target URL"), max_length=2000, assume_scheme="https")
    channel_reference = forms.CharField(label=_("Channel"), required=False, max_length=300)
    addressee_contact = forms.CharField(
        label=_("Sent to (contact)"), required=False, max_length=300, help_text=_("report form, e-mail, desk")
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("what is at the target; never the victim's identity"),
    )
    items = forms.TypedMultipleChoiceField(
        label=_("Evidence items (by number)"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: object, item_choices: list[tuple[int, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["items"].choices = item_choices or []  # type: ignore[attr-defined]


class TakedownSendForm(forms.Form):
    sent_at = _when(_("Sent at"))
    reference_number = forms.CharField(label=_("Your reference"), required=False, max_length=200)
    addressee_contact = forms.CharField(label=_("Sent to (contact)"), required=False, max_length=300)


class TakedownAcknowledgeForm(forms.Form):
    acknowledged_at = _when(_("Acknowledged at"))
    reference_number = forms.CharField(label=_("Their ticket number"), required=False, max_length=200)


class TakedownRemovedForm(forms.Form):
    removed_at = _when(_("Gone since"))
    reference_number = forms.CharField(label=_("Reference"), required=False, max_length=200)


class TakedownRefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason they gave"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    refused_at = _when(_("Refused at"))
    reference_number = forms.CharField(label=_("Reference"), required=False, max_length=200)


class ReappearanceForm(forms.Form):
    url = forms.URLField(label=_("Seen again at (URL)"), max_length=2000, assume_scheme="https")
    seen_at = _when(_("Seen at"))
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    draft_follow_up = forms.BooleanField(
        label=_("Also draft a new request to the same addressee for this URL"), required=False
    )


# The takedown steps the pages offer, each with its form and the status it starts from.
TAKEDOWN_STEP_FORMS: dict[str, type[forms.Form]] = {
    "send": TakedownSendForm,
    "acknowledge": TakedownAcknowledgeForm,
    "removed": TakedownRemovedForm,
    "refuse": TakedownRefuseForm,
}
