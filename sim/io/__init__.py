"""Output layer: atomic files and folders, run outputs, plots."""
