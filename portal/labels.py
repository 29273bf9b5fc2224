"""Words a person reads for the relations of the case graph's links (``derived_from`` → "derived from")."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Relations of the case graph's links (the short form drawn on an edge).
LINK_RELATIONS: dict[str, Promise] = {
    "depicts": _("depicts"),
    "created_by": _("created by"),
    "possessed_by": _("possessed by"),
    "distributed_by": _("distributed by"),
    "posted_in": _("posted in"),
    "derived_from": _("derived from"),
    "administers": _("administers"),
    "uploads_to": _("uploads to"),
    "belongs_to": _("belongs to"),
}


def link_relation(code: str) -> str:
    """The reader's words for a link relation, or the relation as it is when unknown."""
    return str(LINK_RELATIONS.get(code, code))
