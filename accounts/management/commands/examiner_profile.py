"""manage.py examiner_profile USER [--title T] [--unit U] [--training "YYYY-MM-DD NAME"]…
[--certification "YYYY-MM-DD NAME"]… [--note N] [--history] [--json]"""

from typing import Any

from accounts.models import ExaminerQualification
from accounts.selectors import qualification_history
from accounts.services import dated_lines_parse, examiner_qualification_record
from haetae.cli import HaetaeCommand
from haetae.toolkit import utc_iso


def _row(row: ExaminerQualification) -> dict[str, Any]:
    return {
        "id": row.pk,
        "title": row.title,
        "unit": row.unit,
        "training": row.training,
        "certifications": row.certifications,
        "note": row.note,
        "recorded_at": utc_iso(row.recorded_at),
        "recorded_by": row.recorded_by.username if row.recorded_by else None,
    }


class Command(HaetaeCommand):
    """Show or record an examiner's qualification (title, unit, training and certifications with dates), as
    the report cover names it. Recording adds a new row: earlier ones stay, and each report shows the one
    in force when it was made. Options not given carry over from the current record; a repeated --training
    or --certification replaces that whole list (give --training '' to empty it)."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--title", help="rank and position, e.g. '경위, 디지털포렌식 분석관'")
        parser.add_argument("--unit", help="e.g. '서울청 사이버수사대'")
        parser.add_argument(
            "--training", action="append", metavar="'YYYY-MM-DD NAME'", help="a course completed (repeat)"
        )
        parser.add_argument(
            "--certification", action="append", metavar="'YYYY-MM-DD NAME'", help="a certification (repeat)"
        )
        parser.add_argument("--note", help="anything else a court should read beside it")
        parser.add_argument("--history", action="store_true", help="list every recorded state, newest first")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self.get_actor(options["username"])
        changes: dict[str, Any] = {
            field: options[field] for field in ("title", "unit", "note") if options[field] is not None
        }
        for option, field in (("training", "training"), ("certification", "certifications")):
            if options[option] is not None:
                changes[field] = dated_lines_parse("\n".join(options[option]))
        recorded = None
        if changes:
            recorded = examiner_qualification_record(user=user, actor=None, changes=changes)
        rows = list(qualification_history(user_id=user.pk))
        shown = rows if options["history"] else rows[:1]
        if options["json"]:
            self.emit_json(
                {
                    "username": user.username,
                    "recorded": recorded.pk if recorded else None,
                    "current": _row(rows[0]) if rows else None,
                    "history": [_row(r) for r in rows] if options["history"] else None,
                }
            )
            return
        if not rows:
            self.stdout.write(
                f"no qualification recorded for {user.username}: the report cover says 'not recorded in "
                "Haetae'. Record one with --title, --unit, --training and --certification."
            )
            return
        if recorded:
            self.stdout.write(f"recorded qualification {recorded.pk} for {user.username}")
        for row in shown:
            data = _row(row)
            self.stdout.write(
                f"#{data['id']} since {data['recorded_at']} (by {data['recorded_by'] or 'the operator'}): "
                f"{data['title'] or '-'}, {data['unit'] or '-'}"
            )
            for entry in row.training:
                self.stdout.write(f"  training       {entry['date']}  {entry['name']}")
            for entry in row.certifications:
                self.stdout.write(f"  certification  {entry['date']}  {entry['name']}")
            if row.note:
                self.stdout.write(f"  note: {row.note}")
