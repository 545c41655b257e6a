"""Figures without pyplot: made, drawn and saved without touching pyplot's backend or its list
of open figures.

So a command never opens a window or needs a display, a notebook keeps its own (inline)
backend when it calls ``sim.compare`` or ``sim.sweep``, and a figure is freed like any object
once saved, with nothing to close.
"""

from __future__ import annotations

from typing import Any, Literal

from matplotlib.figure import Figure

Layout = Literal["constrained", "compressed", "tight"]


def figure(figsize: tuple[float, float], layout: Layout = "constrained") -> Figure:
    """An empty figure of ``figsize`` inches."""
    return Figure(figsize=figsize, layout=layout)


def subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float],
    layout: Layout = "constrained",
    **grid: Any,
) -> tuple[Figure, Any]:
    """A figure and its grid of axes, as ``pyplot.subplots`` returns them (``sharex``,
    ``squeeze``, ``gridspec_kw`` pass through)."""
    fig = figure(figsize, layout)
    return fig, fig.subplots(nrows, ncols, **grid)
