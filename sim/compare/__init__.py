"""Comparison: paired runs of scenarios against a reference; tables, figures, HTML report."""
