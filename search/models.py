"""The text index: one row per (object, field, source) with its text and the terms both backends match.

Rows are derived, never evidence: ``search_reindex`` rebuilds them from the items, findings and the
registered providers' objects at any time. The match index is PostgreSQL's GIN over the terms (production)
or an FTS5 table over them (SQLite, the embedded default), both created by this app's migration.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from search.choices import SearchField


class IndexEntry(models.Model):
    """One searchable text of one object of a case (an item's OCR text, a message's body …)."""

    # No index of its own: with one, PostgreSQL may walk a case's entries through it and build each
    # entry's vector to test it (seconds on a big case, as a scan of the table would be); without it the
    # GIN index is the way in (``backends.index_plans``). Deleting a case's entries scans the table.
    case = models.ForeignKey("access.Case", on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(  # indexed by ``search_item`` below
        "evidence.EvidenceItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(max_length=32, help_text=_("the provider's kind of object: item, message …"))
    object_id = models.BigIntegerField()
    field = models.CharField(max_length=16, choices=SearchField.choices)
    source = models.CharField(max_length=64, blank=True, help_text=_("e.g. the finding the text came from"))
    text = models.TextField()
    terms = models.TextField()
    rank = models.FloatField(help_text=_("the field's weight over the text's length; the order of hits"))
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("search index entry")
        verbose_name_plural = _("search index entries")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "field", "source"], name="search_entry_unique"
            )
        ]
        # No index on (case, rank): PostgreSQL would walk it in rank order and test every entry of the case
        # against the terms until a page is full (150 ms on a 100,000-item case for a common word), where
        # the GIN match then a sort of the matches takes a third of that (docs/benchmarks.md, P9).
        indexes = [models.Index(fields=["item"], name="search_item")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.field}"
