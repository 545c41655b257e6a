"""Packages that can be called like their main function: ``sim.compare(...)``.

The applications are packages (``sim/compare/``, ``sim/sweep/``, ``sim/calibrate/``: one module
per idea inside), yet a planner should type ``sim.compare(files)``, not
``sim.compare.compare(files)``. Python cannot call a module, but a module's class may be replaced
by a ``ModuleType`` subclass (documented in the language reference, "Customizing module
attribute access"), and an instance of a class with ``__call__`` can be called. Each application
package does, at the end of its ``__init__.py``::

    make_callable(__name__, "compare")

after which ``sim.compare(...)`` is ``sim.compare.compare(...)``. Typed code should import the
function itself (``from sim.compare import compare``): type checkers do not know that a module
can be called.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class CallablePackage(types.ModuleType):
    """A package whose call is its main function (named by ``__sim_call__``), resolved at call
    time so that the package may import it lazily (``import sim.sweep`` stays cheap)."""

    __sim_call__: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the package's main function (``sim.sweep(...)`` is ``sim.sweep.sweep(...)``)."""
        function = getattr(self, self.__sim_call__)
        return function(*args, **kwargs)


def make_callable(module_name: str, function: str) -> None:
    """Make an imported package callable: calling it calls its attribute ``function``."""
    module = sys.modules[module_name]
    module.__class__ = CallablePackage
    module.__dict__["__sim_call__"] = function
