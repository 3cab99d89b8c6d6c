"""The maintainer tools (run by path: python scripts/NAME.py); installed with the repository so they
import resolver/ and each other with no path settings."""
