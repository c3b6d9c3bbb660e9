"""``python -m tess_sim …`` is ``tess-sim …``."""

from tess_sim.cli import main

if __name__ == "__main__":
    main()
