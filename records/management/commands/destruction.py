"""manage.py destruction request|authorise|witness|execute|finish|refuse|certificate|list|retention …"""

from pathlib import Path
from typing import Any

from django.utils import timezone

from access.models import Case
from access.policy import Action, may
from haetae.cli import HaetaeCommand, id_list
from haetae.errors import AccessDenied, NotFound, UsageError
from haetae.toolkit import utc_iso
from records.certificate import destruction_certificate_read
from records.models import DestructionOrder
from records.procedure import erasure_finish
from records.retention import retention_state
from records.services import (
    destruction_certificate_reissue,
    destruction_order_authorise,
    destruction_order_execute,
    destruction_order_refuse,
    destruction_order_request,
    destruction_order_witness,
)


def _order_json(order: DestructionOrder) -> dict[str, Any]:
    return {
        "case": order.case.number,
        "number": order.number,
        "status": order.status,
        "legal_basis": order.legal_basis,
        "requested_by": order.requested_by.username,
        "authorised_by": order.authorised_by.username if order.authorised_by else None,
        "witnessed_by": order.witnessed_by.username if order.witnessed_by else None,
        "executed_at": utc_iso(order.executed_at) if order.executed_at else None,
        "certificate_sha256": order.certificate_id,
        "items": [
            {"item": e.item_id, "sha256": e.sha256, "outcome": e.outcome}
            for e in order.entries.order_by("item_id")
        ],
    }


class Command(HaetaeCommand):
    """Retention and destruction (docs/destruction.md): a lead requests an order with its legal basis, a
    supervisor on the team authorises it, a third member witnesses it, the lead executes it
    (crypto-erasure), and a signed certificate is issued. Each step is a custody event."""

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        request = sub.add_parser("request", help="request an order for a case's items (all without --items)")
        request.add_argument("case")
        request.add_argument("--legal-basis", required=True)
        request.add_argument(
            "--items", default="", help="comma-separated item ids (default: every live item)"
        )
        request.add_argument("--reason", default="")
        request.add_argument("--court-order", default="", help="the court's order requiring destruction now")
        for verb in ("authorise", "witness", "execute", "refuse", "certificate", "show"):
            step = sub.add_parser(verb)
            step.add_argument("case")
            step.add_argument("order", help="e.g. D-001")
            if verb == "refuse":
                step.add_argument("--reason", required=True)
            if verb == "certificate":
                step.add_argument("--out", required=True, help="where to write the signed PDF")
                step.add_argument(
                    "--reissue",
                    action="store_true",
                    help="sign and store it again (it is also issued when signing failed at execution)",
                )
        finish = sub.add_parser(
            "finish",
            help="finish the erasure an interrupted execution (D-…) or disposal (U-…) left pending "
            "(verify reports it as 'erasure pending')",
        )
        finish.add_argument("case")
        finish.add_argument("order", help="e.g. D-001 or U-001")
        retention = sub.add_parser("retention", help="is the case due for destruction, and why (not)")
        retention.add_argument("case")
        for step in sub.choices.values():
            step.add_argument("--actor", default=None, help="who acts (every verb but retention)")
            step.add_argument("--json", action="store_true", help="print one JSON object")

    def _case(self, number: str) -> Case:
        case = Case.objects.filter(number=number).first()
        if case is None:
            raise NotFound(
                f"no case {number}: check the number (manage.py create_case lists none; see the portal)"
            )
        return case

    def _order(self, options: dict[str, Any]) -> DestructionOrder:
        order = DestructionOrder.objects.filter(
            case=self._case(options["case"]), number=options["order"]
        ).first()
        if order is None:
            raise NotFound(f"case {options['case']} has no destruction order {options['order']}")
        return order

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "retention":
            state = retention_state(case=self._case(options["case"]), now=timezone.now())
            payload: dict[str, Any] = {
                "due": state.due,
                "due_at": utc_iso(state.due_at) if state.due_at else None,
                "explanation": state.explanation,
            }
            self._emit(options, payload, state.explanation)
            return
        if not options["actor"]:
            raise UsageError(
                f"destruction {verb} needs --actor USERNAME: every step is recorded under a name"
            )
        actor = self.get_actor(options["actor"])
        if verb == "finish":
            done = erasure_finish(case=self._case(options["case"]), number=options["order"], actor=actor)
            line = (
                f"{options['order']} of case {options['case']}: {len(done)} pending erasure(s) finished"
                if done
                else f"{options['order']} of case {options['case']}: no erasure was pending"
            )
            self._emit(options, {"finished": [{"sha256": k, **v} for k, v in sorted(done.items())]}, line)
            return
        if verb == "request":
            order = destruction_order_request(
                case=self._case(options["case"]),
                actor=actor,
                item_ids=id_list(options["items"]) or None,
                legal_basis=options["legal_basis"],
                reason=options["reason"],
                court_order=options["court_order"],
            )
        else:
            order = self._order(options)
            if verb == "show" and not may(user=actor, action=Action.DESTRUCTION_READ, case=order.case):
                raise AccessDenied(
                    f"{actor.username} may not see case {order.case.number}'s destruction orders"
                )
            if verb == "certificate" and not may(
                user=actor, action=Action.DESTRUCTION_CERTIFICATE, case=order.case
            ):
                raise AccessDenied(
                    f"{actor.username} may not download case {order.case.number}'s destruction certificates: "
                    "they name each item's file (docs/access.md)"
                )
            if verb == "authorise":
                order = destruction_order_authorise(order=order, actor=actor)
            elif verb == "witness":
                order = destruction_order_witness(order=order, actor=actor)
            elif verb == "execute":
                order = destruction_order_execute(order=order, actor=actor)
            elif verb == "refuse":
                order = destruction_order_refuse(order=order, actor=actor, reason=options["reason"])
            elif verb == "certificate":
                # Signing failed at execution: whoever may sign it again does so here (the --reissue rule).
                missing = order.certificate_id is None and may(
                    user=actor, action=Action.DESTRUCTION_CERTIFICATE_ISSUE, case=order.case
                )
                if options["reissue"] or missing:
                    order = destruction_certificate_reissue(order=order, actor=actor)
                Path(options["out"]).write_bytes(destruction_certificate_read(order))
        payload = _order_json(order)
        self._emit(
            options, payload, f"destruction order {order.number} of case {order.case.number}: {order.status}"
        )

    def _emit(self, options: dict[str, Any], payload: dict[str, Any], line: str) -> None:
        if options["json"]:
            self.emit_json(payload)
        else:
            self.stdout.write(line)
