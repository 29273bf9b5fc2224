"""RFC 9162 Merkle log: published vectors, every proof of small trees, tampering, MerkleTree = reference."""

import hashlib
import random

import pytest

from evidence import merkle

# The Certificate Transparency reference leaves and tree heads (RFC 6962 test data, same hashing as 9162).
CT_DATA = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
MAX_SIZE = 70
LEAVES = [merkle.leaf_hash(f"event {i}".encode()) for i in range(300)]
ROOTS = [merkle.root_from_leaf_hashes(LEAVES[:n])[1] for n in range(MAX_SIZE + 1)]


def _flip(value: bytes, position: int = 0) -> bytes:
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


def test_hashing_is_rfc_9162() -> None:
    assert merkle.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = LEAVES[0], LEAVES[1]
    assert merkle.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert merkle.node_hash(left, right) != merkle.node_hash(right, left)


def test_published_roots_and_proofs() -> None:
    leaves = [merkle.leaf_hash(data) for data in CT_DATA]
    for size, expected in enumerate(CT_ROOTS):
        assert merkle.root_from_leaf_hashes(leaves[:size])[1].hex() == expected
        assert merkle.MerkleTree(leaves[:size]).root().hex() == expected
        assert merkle.MerkleTree(leaves).root(size).hex() == expected
    for (index, size), expected_path in CT_INCLUSION.items():
        assert [p.hex() for p in merkle.inclusion_proof(index, leaves[:size])] == expected_path
        assert [p.hex() for p in merkle.MerkleTree(leaves).inclusion_proof(index, size)] == expected_path
        path = [bytes.fromhex(p) for p in expected_path]
        assert merkle.verify_inclusion(index, size, leaves[index], path, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_every_inclusion_proof_verifies_and_tampering_fails(size: int) -> None:
    leaves, root = LEAVES[:size], ROOTS[size]
    tree = merkle.MerkleTree(leaves)
    for index in range(size):
        path = merkle.inclusion_proof(index, leaves)
        assert tree.inclusion_proof(index) == path
        assert merkle.verify_inclusion(index, size, leaves[index], path, root)
        assert not merkle.verify_inclusion(index, size, _flip(leaves[index]), path, root)
        assert not merkle.verify_inclusion(index, size, leaves[index], path, _flip(root, 31))
        assert not merkle.verify_inclusion(index, size, leaves[index], [*path, LEAVES[299]], root)
        assert not merkle.verify_inclusion(size, size, leaves[index], path, root)
        assert not merkle.verify_inclusion(-1, size, leaves[index], path, root)
        if size > 1:
            assert not merkle.verify_inclusion((index + 1) % size, size, leaves[index], path, root)
            assert not merkle.verify_inclusion(index, size, leaves[index], path[:-1], root)
            for position in range(len(path)):
                broken = [*path[:position], _flip(path[position], 7), *path[position + 1 :]]
                assert not merkle.verify_inclusion(index, size, leaves[index], broken, root)
        # a proof for this size does not pass for a bigger tree's root
        if size < MAX_SIZE:
            assert not merkle.verify_inclusion(index, size + 1, leaves[index], path, ROOTS[size + 1])


@pytest.mark.parametrize("new_size", range(1, MAX_SIZE + 1))
def test_every_consistency_proof_verifies_and_tampering_fails(new_size: int) -> None:
    leaves, new_root = LEAVES[:new_size], ROOTS[new_size]
    tree = merkle.MerkleTree(leaves)
    for old_size in range(1, new_size + 1):
        proof = merkle.consistency_proof(old_size, leaves)
        assert tree.consistency_proof(old_size) == proof
        old_root = ROOTS[old_size]
        assert merkle.verify_consistency(old_size, new_size, old_root, new_root, proof)
        assert not merkle.verify_consistency(old_size, new_size, _flip(old_root), new_root, proof)
        assert not merkle.verify_consistency(old_size, new_size, old_root, _flip(new_root), proof)
        if old_size == new_size:
            assert proof == []
            assert not merkle.verify_consistency(old_size, new_size, old_root, new_root, [LEAVES[0]])
            continue
        assert not merkle.verify_consistency(old_size, new_size, old_root, new_root, [])
        assert not merkle.verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
        assert not merkle.verify_consistency(old_size, new_size, old_root, new_root, [*proof, LEAVES[0]])
        assert not merkle.verify_consistency(new_size, old_size, new_root, old_root, proof)
        for position in range(len(proof)):
            broken = [*proof[:position], _flip(proof[position], 3), *proof[position + 1 :]]
            assert not merkle.verify_consistency(old_size, new_size, old_root, new_root, broken)


def test_a_changed_leaf_breaks_consistency_with_the_old_root() -> None:
    original = LEAVES[:40]
    altered = [*original[:10], _flip(original[10]), *original[11:]]
    old_root = merkle.root_from_leaf_hashes(original[:20])[1]
    new_root = merkle.root_from_leaf_hashes(altered)[1]
    proof = merkle.consistency_proof(20, altered)
    assert not merkle.verify_consistency(20, 40, old_root, new_root, proof)


def test_merkle_tree_is_the_rfc_tree_for_every_size_up_to_300() -> None:
    # Bottom-up pairing that carries a lone last node up gives the RFC's split-at-largest-power-of-two tree.
    full = merkle.MerkleTree(LEAVES)
    for size in range(0, len(LEAVES) + 1):
        expected = merkle.root_from_leaf_hashes(LEAVES[:size])[1]
        assert merkle.MerkleTree(LEAVES[:size]).root() == expected
        assert full.root(size) == expected
    assert merkle.MerkleTree([]).root() == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


def test_merkle_tree_proofs_match_reference_on_random_prefixes() -> None:
    rng = random.Random(9162)
    full = merkle.MerkleTree(LEAVES)
    for _ in range(300):
        new_size = rng.randint(1, len(LEAVES))
        index = rng.randrange(new_size)
        old_size = rng.randint(1, new_size)
        prefix = LEAVES[:new_size]
        assert full.inclusion_proof(index, new_size) == merkle.inclusion_proof(index, prefix)
        assert full.consistency_proof(old_size, new_size) == merkle.consistency_proof(old_size, prefix)
        assert full.leaf(index) == LEAVES[index]


def test_tree_accumulator_tracks_the_root_as_it_grows() -> None:
    accumulator = merkle.TreeAccumulator()
    assert accumulator.root() == merkle.EMPTY_ROOT
    for size, leaf in enumerate(LEAVES[:MAX_SIZE], start=1):
        accumulator.append(leaf)
        assert accumulator.size == size
        assert accumulator.root() == ROOTS[size]


def test_merkle_tree_refuses_bad_arguments() -> None:
    tree = merkle.MerkleTree(LEAVES[:10])
    with pytest.raises(ValueError, match="32 bytes"):
        merkle.MerkleTree([b"short"])
    with pytest.raises(ValueError):
        tree.inclusion_proof(10)
    with pytest.raises(ValueError):
        tree.inclusion_proof(5, 5)
    with pytest.raises(ValueError):
        tree.root(11)
    with pytest.raises(ValueError):
        tree.consistency_proof(0)
    with pytest.raises(ValueError):
        tree.consistency_proof(8, 6)
    with pytest.raises(ValueError):
        tree.leaf(-1)
