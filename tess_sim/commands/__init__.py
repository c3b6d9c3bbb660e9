"""The ``tess-sim`` commands, one module per command or command family, each importing what it
needs at its top. :mod:`tess_sim.cli` imports a command's module only when that command is used
(:mod:`.lazy`), so ``tess-sim --help`` and each command pay only for their own imports. Kept
light: Python runs it before any module under it."""
