"""Event-camera data: readers and writers of the real formats, framing, synthetic recordings.

Public API::

    EVENT_DTYPE                       # structured dtype t int64 µs, x int16, y int16, p int8
    FIELD_ALIASES                     # accepted spellings of t / x / y / p (on, polarity, …)
    read_events(path)                 # any supported file → events
    aedat4.read(path, stream=None)    # AEDAT 4 polarity events (optional package aedat)
    aedat31.read / write / iter_chunks, aerdat2.read / write / iter_chunks, npy.read / write
    read_labels(path) / write_labels(path, rows)      # DVS Gesture CSV
    frame_events(events, T, mode=..., bin_us=..., events_per_frame=..., out_size=..., last=...)
    frame_aedat31(path, T, ...)       # = frame_events(aedat31.read(path)), fused; load_frames uses it
    synthetic.generate(label, seed, duration_us) / write_dvsgesture / write_class_folders /
        write_layout                  # tess-sim data synth
    load_frames(source, T, shape, n_samples, seed) -> (frames, labels, description)
    describe(path)                    # tess-sim data info
"""

from tess_sim.simulator.events.core import DVS128, EVENT_DTYPE, FIELD_ALIASES, empty_events, \
    make_events
from tess_sim.simulator.events.formats import aedat4, aedat31, aerdat2, npy, read_events
from tess_sim.simulator.events.fastframe import frame_aedat31
from tess_sim.simulator.events.framing import frame_events
from tess_sim.simulator.events.info import describe
from tess_sim.simulator.events.labels import read_labels, write_labels
from tess_sim.simulator.events.loader import load_frames

__all__ = ["DVS128", "EVENT_DTYPE", "FIELD_ALIASES", "empty_events", "make_events", "aedat4",
           "aedat31", "aerdat2", "npy", "read_events", "frame_events", "frame_aedat31", "describe", "read_labels", "write_labels",
           "load_frames"]
