"""``.npy`` structured event arrays: round trips, foreign dtypes, truncation."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.core import EVENT_DTYPE
from tess_sim.simulator.events.formats import npy, read_events

from .conftest import events_strategy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=events_strategy(npy.MAX_T, 32767))
def test_round_trip(tmp_path, ev):
    f = tmp_path / "r.npy"
    npy.write(f, ev)
    assert np.array_equal(read_events(f), ev)
    chunks = list(npy.iter_chunks(f, chunk_events=3))
    assert np.array_equal(np.concatenate(chunks) if chunks else ev[:0], ev)


def test_tonic_like_dtype(tmp_path):
    # Tonic writes (t, x, y, p) as int64 / bool, in any field order
    arr = np.zeros(3, dtype=[("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "?")])
    arr["x"], arr["y"], arr["t"], arr["p"] = [1, 2, 3], [4, 5, 6], [7, 8, 9], [True, False, True]
    np.save(tmp_path / "a.npy", arr)
    ev = npy.read(tmp_path / "a.npy")
    assert ev.dtype == EVENT_DTYPE
    assert ev.tolist() == [(7, 1, 4, 1), (8, 2, 5, 0), (9, 3, 6, 1)]
    arr2 = np.zeros(2, dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1")])
    arr2["p"] = [-1, 1]
    np.save(tmp_path / "b.npy", arr2)
    assert npy.read(tmp_path / "b.npy")["p"].tolist() == [0, 1]


def test_truncated_names_offset(tmp_path):
    ev = np.zeros(10, dtype=EVENT_DTYPE)
    f = tmp_path / "t.npy"
    npy.write(f, ev)
    data = f.read_bytes()
    f.write_bytes(data[:-5])
    with pytest.raises(UserError) as ei:
        npy.read(f)
    assert f"byte {len(data) - 5}: truncated .npy file" in ei.value.line()
    f.write_bytes(data[:30])
    with pytest.raises(UserError, match="corrupt .npy header"):
        npy.read(f)


def test_bad_content(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(UserError, match="byte 10: need a structured array with integer fields"):
        npy.read(tmp_path / "a.npy")
    arr = np.zeros(2, dtype=[("t", "<f8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1")])
    np.save(tmp_path / "b.npy", arr)
    with pytest.raises(UserError, match="byte 10: need a structured array with integer fields"):
        npy.read(tmp_path / "b.npy")
    arr = np.zeros(2, dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1")])
    arr["p"] = [0, 2]
    np.save(tmp_path / "c.npy", arr)
    data_off = len((tmp_path / "c.npy").read_bytes()) - arr.nbytes
    with pytest.raises(UserError, match=f"byte {data_off + 13}: event 1: polarity must be"):
        npy.read(tmp_path / "c.npy")


def test_values_out_of_range_name_the_event_byte(tmp_path):
    """uint64 values beyond int64 are refused, not wrapped (t) or read as -1 (p)."""
    dt = np.dtype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("p", "<u8")])
    arr = np.zeros(3, dtype=dt)
    arr["t"] = [0, 1, 2**63 + 5]
    f = tmp_path / "u.npy"
    np.save(f, arr)
    data_off = len(f.read_bytes()) - arr.nbytes
    with pytest.raises(UserError, match=f"byte {data_off + 2 * dt.itemsize}: event 2: timestamps"):
        npy.read(f)
    arr["t"] = [0, 1, 2]
    arr["p"] = [1, 2**64 - 1, 0]
    np.save(f, arr)
    with pytest.raises(UserError, match=f"byte {data_off + dt.itemsize}: event 1: polarity"):
        npy.read(f)


@pytest.mark.parametrize("fmt", ["aedat31", "aerdat2", "npy"])
def test_empty_round_trip_every_format(tmp_path, fmt):
    from tess_sim.simulator.events import formats
    mod = getattr(formats, fmt)
    f = tmp_path / ("e.npy" if fmt == "npy" else "e.aedat")
    mod.write(f, np.zeros(0, dtype=EVENT_DTYPE))
    back = read_events(f)
    assert back.dtype == EVENT_DTYPE and back.shape == (0,)
