"""Figures the integration tests measure on the way (build, start and job times, bytes pulled):
collected here and printed in pytest's terminal summary (tests/conftest.py), so that a CI log
shows them without -s. Never asserted on: speed targets live in bench/."""

from __future__ import annotations

FIGURES: list[str] = []


def record(text: str) -> None:
    FIGURES.append(text)
    print(f"\n{text}")
