"""Offline checks of ledger proofs and checkpoint signatures: standard library and pyca only, no Django.

The checkpoint note, the hex decoding and the proof arithmetic are the standalone bundle verifier's
(``evidence.bundle``, through ``evidence.merkle``): one implementation for the ledger and the verifier.
The proof dictionaries are those ``evidence.ledger`` produces (and ``manage.py ledger proof --json``
prints); every check returns the list of problems it found, so a verifier can say exactly what failed.
"""

import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from evidence import merkle
from evidence.bundle import checkpoint_message as checkpoint_message
from evidence.bundle import hex_bytes


def checkpoint_signature_ok(
    *, tree_size: int, root_hash: str, created_at: str, signature: str, public_key: str
) -> bool:
    """Does ``signature`` (hex) by the Ed25519 ``public_key`` (hex) sign this tree head?"""
    key_bytes = hex_bytes(public_key, 32)
    signature_bytes = hex_bytes(signature, 64)
    if key_bytes is None or signature_bytes is None or not isinstance(tree_size, int):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(
            signature_bytes, checkpoint_message(tree_size, root_hash, created_at)
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def checkpoint_problems(checkpoint: Any, *, trusted_public_key: str, label: str = "checkpoint") -> list[str]:
    """What is wrong with a checkpoint dict (id, tree_size, root_hash, created_at, public_key, signature)."""
    if not isinstance(checkpoint, Mapping):
        return [f"{label} is missing"]
    problems = []
    if checkpoint.get("public_key") != trusted_public_key:
        problems.append(
            f"{label} {checkpoint.get('id')} names public key {checkpoint.get('public_key')}, "
            f"not the trusted ledger key {trusted_public_key}"
        )
    tree_size = checkpoint.get("tree_size")
    if not isinstance(tree_size, int) or not checkpoint_signature_ok(
        tree_size=tree_size,
        root_hash=str(checkpoint.get("root_hash")),
        created_at=str(checkpoint.get("created_at")),
        signature=str(checkpoint.get("signature")),
        public_key=trusted_public_key,
    ):
        problems.append(
            f"{label} {checkpoint.get('id')}'s signature does not verify with the trusted ledger key "
            f"{trusted_public_key} (size, root, time or signature altered, or signed by another key)"
        )
    return problems


def _hash_list(values: Any) -> list[bytes] | None:
    if not isinstance(values, list):
        return None
    decoded = [hex_bytes(value, merkle.HASH_SIZE) for value in values]
    if any(value is None for value in decoded):
        return None
    return [value for value in decoded if value is not None]


def inclusion_proof_problems(
    proof: Mapping[str, Any], *, trusted_public_key: str, leaf_data: bytes | None = None
) -> list[str]:
    """Check an event inclusion proof: path to the root, root and size signed by the trusted key.

    With ``leaf_data`` (the event's canonical JSON) the leaf hash is recomputed from it too.
    """
    problems: list[str] = []
    index, tree_size = proof.get("leaf_index"), proof.get("tree_size")
    leaf = hex_bytes(proof.get("leaf_hash"), merkle.HASH_SIZE)
    root = hex_bytes(proof.get("root_hash"), merkle.HASH_SIZE)
    path = _hash_list(proof.get("proof"))
    if not isinstance(index, int) or not isinstance(tree_size, int):
        return ["leaf_index and tree_size must be integers"]
    if leaf is None or root is None or path is None:
        return ["leaf_hash, root_hash and every proof entry must be 64 lowercase hex digits"]
    if leaf_data is not None and merkle.leaf_hash(leaf_data) != leaf:
        problems.append(
            f"the event's data hashes to leaf {merkle.leaf_hash(leaf_data).hex()}, "
            f"not the proof's leaf {leaf.hex()}"
        )
    if not merkle.verify_inclusion(index, tree_size, leaf, path, root):
        problems.append(
            f"the audit path does not lead from leaf {index} to root {root.hex()} of a tree of {tree_size}"
        )
    checkpoint = proof.get("checkpoint")
    problems += checkpoint_problems(checkpoint, trusted_public_key=trusted_public_key)
    if isinstance(checkpoint, Mapping) and (
        checkpoint.get("tree_size") != tree_size or checkpoint.get("root_hash") != root.hex()
    ):
        problems.append(
            f"the proof is against size {tree_size} root {root.hex()}, but its checkpoint signs size "
            f"{checkpoint.get('tree_size')} root {checkpoint.get('root_hash')}"
        )
    return problems


def verify_inclusion_proof(
    proof: Mapping[str, Any], *, trusted_public_key: str, leaf_data: bytes | None = None
) -> bool:
    """True when ``inclusion_proof_problems`` finds nothing."""
    return not inclusion_proof_problems(proof, trusted_public_key=trusted_public_key, leaf_data=leaf_data)


def consistency_proof_problems(proof: Mapping[str, Any], *, trusted_public_key: str) -> list[str]:
    """Check a consistency proof between two checkpoints, and both checkpoints' signatures."""
    old_size, new_size = proof.get("old_size"), proof.get("new_size")
    old_root = hex_bytes(proof.get("old_root"), merkle.HASH_SIZE)
    new_root = hex_bytes(proof.get("new_root"), merkle.HASH_SIZE)
    path = _hash_list(proof.get("proof"))
    if not isinstance(old_size, int) or not isinstance(new_size, int):
        return ["old_size and new_size must be integers"]
    if old_root is None or new_root is None or path is None:
        return ["old_root, new_root and every proof entry must be 64 lowercase hex digits"]
    problems: list[str] = []
    if not merkle.verify_consistency(old_size, new_size, old_root, new_root, path):
        problems.append(
            f"the tree of {old_size} with root {old_root.hex()} is not shown to be a prefix of the tree "
            f"of {new_size} with root {new_root.hex()}"
        )
    for label, size, root in (("old", old_size, old_root), ("new", new_size, new_root)):
        checkpoint = proof.get(f"{label}_checkpoint")
        problems += checkpoint_problems(
            checkpoint, trusted_public_key=trusted_public_key, label=f"{label} checkpoint"
        )
        if isinstance(checkpoint, Mapping) and (
            checkpoint.get("tree_size") != size or checkpoint.get("root_hash") != root.hex()
        ):
            problems.append(
                f"the {label} tree is size {size} root {root.hex()}, but its checkpoint signs size "
                f"{checkpoint.get('tree_size')} root {checkpoint.get('root_hash')}"
            )
    return problems


def verify_consistency_proof(proof: Mapping[str, Any], *, trusted_public_key: str) -> bool:
    """True when ``consistency_proof_problems`` finds nothing."""
    return not consistency_proof_problems(proof, trusted_public_key=trusted_public_key)
