"""Scenario layer: YAML files to a frozen, validated ``Scenario``.

Schema, YAML reading, ``extends``/``set`` composition, limits.
"""
