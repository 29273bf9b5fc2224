"""REST API for cases: the caller's cases, and evidence uploads into them."""
