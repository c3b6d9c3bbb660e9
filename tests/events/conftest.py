import numpy as np
from hypothesis import strategies as st

from tess_sim.simulator.events import dataset, frame_events
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


def reference_load(source, T, shape, n_samples, seed):
    """``load_frames`` of a dataset folder computed the plain way (the loader before the fused
    DVS Gesture path): the seeded choice of samples, each recording decoded by
    ``dataset.read_file``, each sample's window masked out (``dataset.sample_events``) and
    framed by ``frame_events``. Returns ``(frames float32, labels int64)``."""
    src = dict(source)
    layout, root = src.pop("format"), src.pop("root")
    framing = {k: src.pop(k) for k in ("mode", "bin_us", "events_per_frame", "last") if k in src}
    ds = dataset.scan(layout, root, src.pop("split", "all"))
    order = np.random.default_rng(seed).permutation(len(ds.samples))[:n_samples]
    frames = np.zeros((n_samples, T) + tuple(shape), dtype=np.float32)
    labels = np.zeros(n_samples, dtype=np.int64)
    for k, i in enumerate(order):
        s = ds.samples[int(i)]
        ev = dataset.read_file(layout, s.path, **src)
        frames[k] = frame_events(dataset.sample_events(ev, s), T, t_start=s.t_start,
                                 t_end=s.t_end, out_size=tuple(shape[1:]), where=str(s.path),
                                 **framing)
        labels[k] = s.label
    return frames, labels
