"""REST API for the vault: item metadata and custody with proofs. Never content."""
