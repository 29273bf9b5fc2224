"""Forms of the exhibit pages: the exhibit itself, withdrawal, report generation and export bundles."""

import base64
import binascii
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from django import forms
from django.utils.translation import gettext_lazy as _

from exhibits.choices import ReportLanguage
from exhibits.models import Report

MIN_PASSPHRASE = 12
MAX_KEY_FILE = 16 * 1024


class ExhibitForm(forms.Form):
    """Description and opinion; the items come as repeated ``items`` values (checkboxes)."""

    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("what the items are and why they matter"),
    )
    opinion = forms.CharField(
        label=_("Investigator's opinion"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("your own reading, kept apart from detector findings (which stay leads)"),
    )


def item_ids_from(values: list[str]) -> list[int]:
    """Item ids from checkbox values (and "12, 15" typed lists), in the order given, each once."""
    ids: list[int] = []
    for value in values:
        for part in value.replace(",", " ").split():
            if not part.isdigit():
                raise forms.ValidationError(
                    _("an item is named by its number (id), not %(value)s") % {"value": part}
                )
            if int(part) not in ids:
                ids.append(int(part))
    return ids


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("goes into the case's custody record; the exhibit's number is never reused"),
    )


class ApproveForm(forms.Form):
    note = forms.CharField(label=_("Approval note"), required=False, max_length=500)


def _exhibit_choices(numbers: list[str]) -> list[tuple[str, str]]:
    return [(number, number) for number in numbers]


class ReportForm(forms.Form):
    """Which exhibits (none ticked: every exhibit of the case) and the report's language."""

    exhibits = forms.MultipleChoiceField(
        label=_("Exhibits"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("none ticked: every exhibit of the case"),
    )
    language = forms.ChoiceField(label=_("Report language"), choices=ReportLanguage.choices)

    def __init__(self, *args: Any, numbers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["exhibits"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = _exhibit_choices(numbers)


class BundleForm(forms.Form):
    """Exhibits, recipient, and how the originals are encrypted: an X25519 public key or a passphrase."""

    KEY = "key"
    PASSPHRASE = "passphrase"  # noqa: S105 - the name of a choice, not a secret

    exhibits = forms.MultipleChoiceField(
        label=_("Exhibits"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("the exhibits the bundle carries (those shared with the prosecutor)"),
    )
    report = forms.TypedChoiceField(
        label=_("Signed report to include"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("a finished report of exactly the bundle's exhibits, or a new one made with the bundle"),
    )
    language = forms.ChoiceField(
        label=_("Language of a new report"), choices=ReportLanguage.choices, initial=ReportLanguage.KO
    )
    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=300,
        help_text=_("who receives it, e.g. the prosecutor's name and office"),
    )
    protection = forms.ChoiceField(
        label=_("Encrypt the originals with"),
        widget=forms.RadioSelect,
        choices=[
            (KEY, _("the recipient's X25519 public key (a file)")),
            (PASSPHRASE, _("a passphrase given to the recipient by another channel")),
        ],
        initial=KEY,
    )
    public_key = forms.FileField(
        label=_("Recipient's public key"),
        required=False,
        help_text=_("PEM (BEGIN PUBLIC KEY), or the key's 32 bytes: raw, in base64 or in hexadecimal"),
    )
    passphrase = forms.CharField(
        label=_("Passphrase"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("at least 12 characters; never sent with the bundle"),
    )
    passphrase_again = forms.CharField(
        label=_("Passphrase again"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, numbers: list[str], reports: list[Report], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["exhibits"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = _exhibit_choices(numbers)
        report_field = self.fields["report"]
        assert isinstance(report_field, forms.TypedChoiceField)
        report_field.choices = [("", _("a new signed report of exactly these exhibits"))] + [
            (report.pk, f"{report.report_id} v{report.version} ({', '.join(report.scope)})")
            for report in reports
        ]
        self.public_key_bytes: bytes | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("protection") == self.KEY:
            upload = data.get("public_key")
            if upload is None:
                self.add_error("public_key", _("choose the recipient's public key file, or use a passphrase"))
            else:
                try:
                    self.public_key_bytes = x25519_public_key(upload.read(MAX_KEY_FILE + 1))
                except ValueError as exc:
                    self.add_error("public_key", str(exc))
        elif data.get("protection") == self.PASSPHRASE:
            passphrase = data.get("passphrase") or ""
            if len(passphrase) < MIN_PASSPHRASE:
                self.add_error(
                    "passphrase", _("the passphrase needs at least %(n)s characters") % {"n": MIN_PASSPHRASE}
                )
            elif passphrase != data.get("passphrase_again"):
                self.add_error("passphrase_again", _("the two passphrases differ: type the same one twice"))
        return data


def x25519_public_key(data: bytes) -> bytes:
    """The 32 raw bytes of an X25519 public key given as PEM, DER, raw or hex; ValueError says why not."""
    if len(data) > MAX_KEY_FILE:
        raise ValueError(
            str(_("that file is too large to be a public key: choose the recipient's public key"))
        )
    text = data.strip()
    if len(data) == 32:
        return data
    if len(text) == 64:
        try:
            return binascii.unhexlify(text)
        except binascii.Error:
            pass
    if len(text) in (43, 44):
        try:
            decoded = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
        except binascii.Error:
            decoded = b""
        if len(decoded) == 32:
            return decoded
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        else:
            key = serialization.load_der_public_key(data)
    except (ValueError, TypeError):
        raise ValueError(
            str(
                _(
                    "not a public key file: give a PEM (BEGIN PUBLIC KEY), or the key's 32 bytes raw, in "
                    "base64 or in hex"
                )
            )
        ) from None
    if not isinstance(key, X25519PublicKey):
        raise ValueError(
            str(_("that is a public key, but not an X25519 one: the bundle encrypts to X25519 keys"))
        )
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
