"""What ``import_model`` and ``model_packs`` share: the re-scan an enabled pack may queue, and its jobs."""

from collections.abc import Iterable
from typing import Any

from access.models import Case
from detection.models import ScanJob
from haetae.errors import RejectedInput


def add_rescan_scope(parser: Any, *, enabled_by: str) -> None:
    """``--rescan-case NUMBER`` or ``--rescan-all``, each meaningful only with ``enabled_by`` (the option or
    action that enables the pack)."""
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--rescan-case", metavar="NUMBER", help=f"with {enabled_by}: queue a re-scan of this case"
    )
    scope.add_argument(
        "--rescan-all", action="store_true", help=f"with {enabled_by}: queue a re-scan of the vault"
    )


def rescan_case(options: dict[str, Any]) -> Case | None:
    """The case ``--rescan-case`` names, or None without it; refused when no case has that number."""
    if not options["rescan_case"]:
        return None
    case = Case.objects.filter(number=options["rescan_case"]).first()
    if case is None:
        raise RejectedInput(f"no case numbered {options['rescan_case']!r}: check the number")
    return case


def jobs_json(jobs: Iterable[ScanJob]) -> list[dict[str, Any]]:
    """The queued re-scan jobs as the commands' JSON shows them."""
    return [{"id": job.pk, "detector": job.detector_name, "total": job.total} for job in jobs]
