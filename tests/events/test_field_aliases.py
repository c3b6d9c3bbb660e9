"""Event arrays under the field names of the common tools (``on``, ``polarity``, ``timestamp`` …)
are accepted wherever structured event arrays are taken (``as_events`` → ``frame_events`` and
the writers; ``.npy`` files), from one table; and AEDAT 4 without the ``aedat`` package is a
one-line error naming the extra. None of this needs the ``aedat`` package."""

import sys

import numpy as np
import pytest
from click.testing import CliRunner

from tess_sim.commands.data import data
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import frame_events, make_events, npy
from tess_sim.simulator.events.core import EVENT_DTYPE, FIELD_ALIASES, as_events
from tess_sim.simulator.events.formats import read_events

from .aedat4_writer import write as write_aedat4

T, X, Y, P = [3, 10, 20, 35], [5, 127, 0, 9], [7, 0, 127, 1], [1, 0, 1, 1]
REF = make_events(T, X, Y, P)


def _array(t_name, p_name, p_kind="?", order=("x", "y", "p", "t")):
    """A structured array of REF's events with the given spellings of t and p."""
    names = {"x": "x", "y": "y", "t": t_name, "p": p_name}
    kinds = {"x": "<u2", "y": "<u2", "t": "<u8", "p": p_kind}
    arr = np.zeros(len(T), dtype=[(names[f], kinds[f]) for f in order])
    for f, v in (("x", X), ("y", Y), ("t", T), ("p", P)):
        arr[names[f]] = v
    return arr


SPELLINGS = [(t, "p") for t in FIELD_ALIASES["t"]] + [("t", p) for p in FIELD_ALIASES["p"]]


def test_the_table_is_the_documented_one():
    # written out by hand: the spellings docs/events.md lists
    assert FIELD_ALIASES == {"t": ("t", "timestamp", "ts"), "x": ("x",), "y": ("y",),
                             "p": ("p", "on", "polarity", "pol")}


@pytest.mark.parametrize("t_name, p_name", SPELLINGS)
def test_every_spelling_through_the_python_api_and_npy(tmp_path, t_name, p_name):
    arr = _array(t_name, p_name)
    ev = as_events(arr)
    assert ev.dtype == EVENT_DTYPE and ev.tolist() == REF.tolist()
    assert np.array_equal(frame_events(arr, 3), frame_events(REF, 3))
    f = tmp_path / "e.npy"
    np.save(f, arr)
    assert npy.read(f).tolist() == REF.tolist()
    assert npy.count(f) == 4 and np.concatenate(list(npy.iter_chunks(f, 3))).tolist() == REF.tolist()
    npy.write(tmp_path / "w.npy", arr)                      # writers take them too
    assert read_events(tmp_path / "w.npy").tolist() == REF.tolist()


def test_the_aedat_decoders_dtype_title_p_name_on(tmp_path):
    """aedat 2.3 gives [('t', u8), ('x', u2), ('y', u2), (('p', 'on'), '?')]: the field is named
    ``on`` (``p`` is only its title); older 2.x name it ``on`` without a title."""
    for dt in ([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), (("p", "on"), "?")],
               [("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")]):
        arr = np.zeros(4, dtype=dt)
        arr["t"], arr["x"], arr["y"], arr["on"] = T, X, Y, P
        assert arr.dtype.names[-1] == "on"
        assert as_events(arr).tolist() == REF.tolist()
        np.save(tmp_path / "d.npy", arr)
        assert npy.read(tmp_path / "d.npy").tolist() == REF.tolist()


def test_plus_minus_one_polarity_under_another_name(tmp_path):
    arr = _array("timestamp", "polarity", p_kind="i1")
    arr["polarity"] = [1, -1, 1, 1]
    np.save(tmp_path / "pm.npy", arr)
    assert npy.read(tmp_path / "pm.npy").tolist() == REF.tolist()


def test_two_spellings_of_one_field_is_an_error(tmp_path):
    arr = np.zeros(2, dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1"), ("on", "?")])
    with pytest.raises(UserError) as ei:
        as_events(arr, "mine")
    assert ei.value.line() == ("mine: dtype: event array has fields p and on, which both spell "
                               "'p'; keep one (has ['t', 'x', 'y', 'p', 'on'])")
    np.save(tmp_path / "two.npy", arr)
    with pytest.raises(UserError, match=r"byte \d+: event array has fields p and on"):
        npy.read(tmp_path / "two.npy")


def test_no_spelling_matches_exit_2_naming_the_fields_found(tmp_path):
    arr = np.zeros(2, dtype=[("time", "<i8"), ("x", "<i2"), ("y", "<i2"), ("sign", "i1")])
    f = tmp_path / "odd.npy"
    np.save(f, arr)
    r = CliRunner().invoke(data, ["info", str(f)])
    lines = r.output.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert lines[0].startswith(f"error: {f}: byte ")
    assert ("event array lacks field(s) t, p; need a structured array with fields t, x, y, p, "
            "spelled t: t / timestamp / ts; x: x; y: y; p: p / on / polarity / pol "
            "(has ['time', 'x', 'y', 'sign'])") in lines[0]
    with pytest.raises(UserError, match=r"lacks field\(s\) t, p.*has \['time', 'x', 'y', 'sign'\]"):
        frame_events(arr, 2)


def test_aedat4_without_the_package_names_the_extra(tmp_path, monkeypatch):
    f = write_aedat4(tmp_path / "r.aedat4", [(0, REF)])
    monkeypatch.setitem(sys.modules, "aedat", None)            # import aedat -> ImportError
    r = CliRunner().invoke(data, ["info", str(f)])
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines() == [
        f"error: {f}: reading AEDAT 4 needs the optional package 'aedat': "
        'pip install -e ".[aedat4]"']
    with pytest.raises(UserError, match=r'pip install -e "\.\[aedat4\]"'):
        read_events(f)
