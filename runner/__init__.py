"""Pre-Execution Runner: rehearses a trading system's exchange path before it goes live."""

__version__ = "0.1.0"
