"""manage.py ledger proof|consistency|key: proofs, checked before printing, and the ledger's public key."""

from typing import Any

from django.core.management.base import CommandParser

from evidence import crypto, proofcheck
from evidence.ledger import (
    checkpoint_consistency_proof,
    checkpoint_get,
    event_get,
    event_inclusion_proof,
)
from haetae.cli import HaetaeCommand
from haetae.errors import IntegrityFailure


class Command(HaetaeCommand):
    """Prove that a custody event is in the signed ledger, or that one checkpoint extends another."""

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{proof,consistency,key}")
        proof = actions.add_parser("proof", help="inclusion proof of one event under a signed checkpoint")
        proof.add_argument("--event", type=int, required=True, metavar="SEQ", help="the event's seq number")
        proof.add_argument(
            "--checkpoint", type=int, metavar="ID", help="checkpoint id (default: newest covering the event)"
        )
        proof.add_argument("--json", action="store_true", help="print the proof as one JSON object")
        consistency = actions.add_parser(
            "consistency", help="consistency proof between two checkpoints (older first)"
        )
        consistency.add_argument("--from", dest="old", type=int, required=True, metavar="ID")
        consistency.add_argument("--to", dest="new", type=int, required=True, metavar="ID")
        consistency.add_argument("--json", action="store_true", help="print the proof as one JSON object")
        key = actions.add_parser(
            "key", help="the ledger's Ed25519 public key and key id, to publish for bundle verifiers"
        )
        key.add_argument("--json", action="store_true", help="print the key as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        # Check every proof with the offline verifier and the configured key before anyone relies on it.
        trusted_key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
        if options["action"] == "key":
            self._print_key(trusted_key, as_json=options["json"])
            return
        if options["action"] == "proof":
            event = event_get(seq=options["event"])
            checkpoint = (
                checkpoint_get(checkpoint_id=options["checkpoint"]) if options["checkpoint"] else None
            )
            payload = event_inclusion_proof(event=event, checkpoint=checkpoint)
            problems = proofcheck.inclusion_proof_problems(payload, trusted_public_key=trusted_key)
        else:
            payload = checkpoint_consistency_proof(
                old=checkpoint_get(checkpoint_id=options["old"]),
                new=checkpoint_get(checkpoint_id=options["new"]),
            )
            problems = proofcheck.consistency_proof_problems(payload, trusted_public_key=trusted_key)
        if problems:
            raise IntegrityFailure(
                "the proof does not check out: " + "; ".join(problems), details={"problems": problems}
            )
        if options["json"]:
            self.emit_json(payload)
        elif options["action"] == "proof":
            self._print_inclusion(payload)
        else:
            self._print_consistency(payload)

    def _print_inclusion(self, payload: dict[str, Any]) -> None:
        checkpoint = payload["checkpoint"]
        lines = [
            f"event {payload['leaf_index']}: leaf {payload['leaf_hash']}",
            f"checkpoint {checkpoint['id']}: size {payload['tree_size']}, root {payload['root_hash']}, "
            f"signed {checkpoint['created_at']} by key {checkpoint['key_id']}",
            f"audit path ({len(payload['proof'])} hashes, leaf to root):",
            *(f"  {node}" for node in payload["proof"]),
            "verified: the path leads from the leaf to the signed root",
        ]
        self.stdout.write("\n".join(lines))

    def _print_consistency(self, payload: dict[str, Any]) -> None:
        old, new = payload["old_checkpoint"], payload["new_checkpoint"]
        lines = [
            f"from checkpoint {old['id']}: size {payload['old_size']}, root {payload['old_root']}",
            f"to checkpoint {new['id']}: size {payload['new_size']}, root {payload['new_root']}",
            f"consistency proof ({len(payload['proof'])} hashes):",
            *(f"  {node}" for node in payload["proof"]),
            "verified: the older tree is a prefix of the newer one, and both heads are signed",
        ]
        self.stdout.write("\n".join(lines))

    def _print_key(self, public_key: str, *, as_json: bool) -> None:
        # What the agency publishes (outside any bundle) so that `verify_bundle --ledger-key` has an anchor.
        key_id = crypto.public_key_id(public_key)
        if as_json:
            self.emit_json({"algorithm": "Ed25519", "public_key": public_key, "key_id": key_id})
            return
        self.stdout.write(
            f"ledger public key (Ed25519): {public_key}\nkey id: {key_id}\n"
            f"verify a bundle with: python -m evidence.bundle BUNDLE.zip --ledger-key {public_key}"
        )
