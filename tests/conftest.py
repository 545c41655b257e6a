"""Shared test settings.

Property tests run with a fixed seed (``derandomize``) and no example database, so a test run is
repeatable: the same commit passes or fails the same way on every machine and in CI. Exploring new
random examples is a separate, deliberate act: ``HYPOTHESIS_PROFILE=explore pytest tests/...``.
"""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
