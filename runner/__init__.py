"""Pre-Execution Runner: rehearses a trading system's exchange path before it goes live."""

__version__ = "0.1.0.dev0"  # not released yet: CHANGELOG.md [Unreleased]; see runner/release.py
