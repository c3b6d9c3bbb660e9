import numpy as np
from hypothesis import strategies as st

from tess_sim.simulator.events.core import EVENT_DTYPE


def events_strategy(max_t, max_xy, max_size=40, sorted_t=False):
    """Random event arrays (possibly empty) with t in [0, max_t], x/y in [0, max_xy]."""
    row = st.tuples(st.integers(0, max_t), st.integers(0, max_xy), st.integers(0, max_xy),
                    st.integers(0, 1))

    def build(rows):
        if sorted_t:
            rows = sorted(rows)
        ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
        for i, (t, x, y, p) in enumerate(rows):
            ev[i] = (t, x, y, p)
        return ev

    # bias towards the extremes of the format
    return st.lists(row, max_size=max_size).map(build)
