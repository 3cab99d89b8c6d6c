"""The framework-release discovery behind scripts/discover_releases.py, by role: the package index
and its wheels' metadata (index.py), the facts derived from it (facts.py), and writing them into
data/versions.yml (data.py)."""
