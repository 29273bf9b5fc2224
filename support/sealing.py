"""Restricted support notes sealed at rest: AES-256-GCM under the master key (``evidence.crypto``'s record
sealing), bound to their support file, so a note copied onto another file fails its tag."""

from cryptography.exceptions import InvalidTag

from evidence.crypto import master_key, record_open, record_seal
from haetae.errors import HaetaeError, IntegrityFailure
from support.models import SupportNote

_NOTE_AAD = b"haetae-support-note/v1:"


def _note_aad(support_file_id: int) -> bytes:
    return _NOTE_AAD + str(support_file_id).encode()


def note_seal(*, support_file_id: int, text: str) -> tuple[bytes, str]:
    """The sealed note and the id of the master key that sealed it."""
    key = master_key()
    sealed = record_seal(key=key.key, plaintext=text.encode(), associated_data=_note_aad(support_file_id))
    return sealed, key.key_id


def note_open(note: SupportNote) -> str:
    """The note's text; IntegrityFailure when its tag fails, a clear error when the key is not the one."""
    key = master_key()
    if note.key_id != key.key_id:
        raise HaetaeError(
            f"restricted note {note.pk} was sealed with master key {note.key_id}, but the configured key is "
            f"{key.key_id}: point HAETAE_MASTER_KEY_FILE at the right key"
        )
    sealed = bytes(note.sealed)
    try:
        plain = record_open(key=key.key, sealed=sealed, associated_data=_note_aad(note.support_file_id))
    except (InvalidTag, ValueError):
        raise IntegrityFailure(
            f"restricted note {note.pk} fails its authentication tag (altered, or moved from another file)"
        ) from None
    return plain.decode()
