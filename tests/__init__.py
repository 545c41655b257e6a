"""The specification of sim: tests read like what they check (docs/model.md)."""
