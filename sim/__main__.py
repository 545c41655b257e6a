"""``python -m sim``: the same as the ``sim`` command."""

from sim.cli import main_entry

if __name__ == "__main__":  # not when a worker process imports the main module
    main_entry()
