"""SLO specs, error-budget computation and reports (see docs/SLO.md)."""
