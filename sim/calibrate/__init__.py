"""Calibration: fit a scenario's declared free parameters to reported figures."""
