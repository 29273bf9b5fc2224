"""Writes on cases. Each service owns its transaction and records its own custody events."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from casefile.choices import CaseMemberRole
from casefile.models import Case, CaseMember
from evidence.choices import CustodyAction
from evidence.custody import EventSpec, custody_append_many
from haetae.errors import RejectedInput


def case_create(*, number: str, title: str, actor: User | None = None) -> Case:
    """Open a case; the creator (when given) joins it as lead. Logged as a case-level custody event."""
    case = Case(number=number.strip(), title=title.strip())
    try:
        case.full_clean()
    except ValidationError as exc:
        if "number" in exc.message_dict and Case.objects.filter(number=case.number).exists():
            raise RejectedInput(f"case {case.number} already exists: choose another number") from None
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        raise RejectedInput(f"cannot create case {number!r}: {problems}") from None
    try:
        with transaction.atomic():
            case.save()
            if actor is not None:
                CaseMember.objects.create(case=case, user=actor, role=CaseMemberRole.LEAD)
            custody_append_many(
                [
                    EventSpec(
                        case_id=case.pk,
                        action=CustodyAction.CASE_CREATED,
                        actor=actor,
                        details={"number": case.number, "title": case.title},
                    )
                ]
            )
    except IntegrityError:
        raise RejectedInput(f"case {case.number} already exists: choose another number") from None
    return case


def case_get(*, number: str) -> Case:
    """The case with this number, or a RejectedInput saying how to find the right one."""
    try:
        return Case.objects.get(number=number)
    except Case.DoesNotExist:
        raise RejectedInput(
            f"no case numbered {number!r}: list cases with the API (GET /api/v1/cases/) or create it with "
            "'manage.py create_case'"
        ) from None
