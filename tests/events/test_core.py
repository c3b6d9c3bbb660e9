"""core.py: the event dtype conversion, file mapping and the header parser's every branch
(headers longer than the first 64 KiB read, longer than the 1 MiB limit, a line cut by the
64 KiB read, a missing end marker)."""

import struct

import numpy as np
import pytest

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events import core, frame_events
from tess_sim.simulator.events.core import EVENT_DTYPE, as_events, empty_events, make_events, map_file
from tess_sim.simulator.events.formats import aedat31, aerdat2

KIB64 = 1 << 16
MAGIC31 = b"#!AER-DAT3.1\r\n"
END31 = b"#!END-HEADER\r\n"


def polarity_packet(events):
    """One AEDAT 3.1 polarity packet of ``(t, x, y, p)`` rows, all valid (format in aedat31.py)."""
    n = len(events)
    body = b"".join(struct.pack("<Ii", x << 17 | y << 2 | p << 1 | 1, t) for t, x, y, p in events)
    return struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, n, n, n) + body


ROWS = [(10, 5, 7, 1), (20, 127, 0, 0), (35, 0, 127, 1)]


def padded_header(total: int) -> bytes:
    """``#!AER-DAT3.1`` then ``#`` comment lines of 100 bytes, the last one sized so that the
    lines end exactly at byte ``total`` (before ``#!END-HEADER``)."""
    out = MAGIC31
    while total - len(out) > 200:
        out += b"#" + b"c" * 97 + b"\r\n"
    rest = total - len(out)
    return out + b"#" + b"c" * (rest - 3) + b"\r\n"


def check_events(ev, rows):
    assert [tuple(int(v) for v in e) for e in ev] == rows


@pytest.mark.parametrize("end_of_comments", [KIB64 - 14, KIB64 - 7, KIB64, KIB64 + 5, 300_000])
def test_header_past_the_first_64_kib_is_read_whole(tmp_path, end_of_comments):
    """The comments end so that the first 64 KiB read ends right after the end marker (-14),
    inside it (-7), right after a comment line (= 64 KiB), inside a comment (+5), or far before
    the header's end: in every case the parser finds the whole header and the same events."""
    head = padded_header(end_of_comments) + END31
    f = tmp_path / "long.aedat"
    f.write_bytes(head + polarity_packet(ROWS))
    lines, off = aedat31.read_header(f)
    assert off == len(head) and lines[0] == "#!AER-DAT3.1" and lines[-1] == "#!END-HEADER"
    assert all(len(line) == 98 for line in lines[1:-2])       # every padding line, \r\n stripped
    check_events(aedat31.read(f), ROWS)


def test_header_longer_than_1_mib_is_refused_at_the_limit(tmp_path):
    f = tmp_path / "huge.aedat"
    f.write_bytes(padded_header((1 << 20) + 1000) + END31 + polarity_packet(ROWS))
    with pytest.raises(UserError) as ei:
        aedat31.read(f)
    assert ei.value.line() == f"{f}: byte {1 << 20}: header longer than {1 << 20} bytes"


def test_missing_end_marker_before_data_or_end_of_file(tmp_path):
    f = tmp_path / "noend.aedat"
    head = MAGIC31 + b"#Format: RAW\r\n"
    f.write_bytes(head + polarity_packet(ROWS))                # the packet header is not '#'
    with pytest.raises(UserError) as ei:
        aedat31.read(f)
    assert ei.value.line() == (f"{f}: byte {len(head)}: truncated or corrupt header: no "
                               "'#!END-HEADER' line before binary data")
    f.write_bytes(head)                                         # complete lines, then nothing
    with pytest.raises(UserError) as ei:
        aedat31.read(f)
    assert ei.value.line() == (f"{f}: byte {len(head)}: truncated or corrupt header: no "
                               "'#!END-HEADER' line before the end of the file")


def test_aerdat2_header_only_and_past_64_kib(tmp_path):
    """AER-DAT 2.0 has no end marker: the header ends at the first non-'#' byte or the file's end."""
    f = tmp_path / "h.aedat"
    head = b"#!AER-DAT2.0\r\n" + b"".join(b"#" + b"c" * 97 + b"\r\n" for _ in range(700))
    f.write_bytes(head)
    assert aerdat2.read_header(f)[1] == len(head) > KIB64
    assert len(aerdat2.read(f)) == 0
    f.write_bytes(head + struct.pack(">II", 5 << 1 | 7 << 8 | 1, 42))
    check_events(aerdat2.read(f), [(42, 5, 7, 1)])


def test_map_file_empty_folder_and_unreadable(tmp_path, monkeypatch):
    empty = tmp_path / "empty.aedat"
    empty.write_bytes(b"")
    assert map_file(empty).dtype == np.uint8 and len(map_file(empty)) == 0
    with pytest.raises(UserError, match="not an AER-DAT3.1 file"):
        aedat31.read(empty)
    with pytest.raises(UserError) as ei:
        aedat31.read(tmp_path)
    assert ei.value.line() == f"{tmp_path}: not a regular file"

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(core.np, "memmap", refuse)            # (root ignores chmod 000)
    f = tmp_path / "locked.aedat"
    f.write_bytes(MAGIC31 + END31)
    with pytest.raises(UserError) as ei:
        aedat31.read(f)
    assert ei.value.line() == f"{f}: cannot read: Permission denied"


def test_other_structured_dtypes_convert_by_field_name():
    """A packed array with fields in another order and other widths (as Tonic's) is converted
    by name; the values, not the byte layout, carry over; frames equal those of EVENT_DTYPE."""
    other = np.dtype([("x", "<u2"), ("y", "<u1"), ("p", "?"), ("t", "<i4"), ("extra", "<f4")])
    src = np.array([(5, 7, True, 10, 0.5), (127, 0, False, 20, 1.0), (0, 127, True, 35, 2.0)],
                   dtype=other)
    ev = as_events(src)
    assert ev.dtype == EVENT_DTYPE and ev.dtype.itemsize == 16
    check_events(ev, ROWS)
    ref = make_events([10, 20, 35], [5, 127, 0], [7, 0, 127], [1, 0, 1])
    assert np.array_equal(frame_events(src, 2), frame_events(ref, 2))
    assert as_events(ref) is not ref and np.shares_memory(as_events(ref), ref)  # no copy
    assert as_events(src.reshape(3, 1)).shape == (3,)


def test_missing_fields_are_named():
    bad = np.zeros(2, dtype=[("t", "<i8"), ("x", "<i2")])
    with pytest.raises(UserError) as ei:
        frame_events(bad, 1, where="my.npy")
    assert ei.value.line() == ("my.npy: dtype: event array lacks field(s) y, p; need a structured "
                               "array with fields t, x, y, p, spelled t: t / timestamp / ts; "
                               "x: x; y: y; p: p / on / polarity / pol (has ['t', 'x'])")
    with pytest.raises(UserError, match=r"lacks field\(s\) t, x, y, p.*has \[\]"):
        as_events(np.arange(3))


def test_make_and_empty_events():
    assert empty_events().shape == (0,) and empty_events(3).dtype == EVENT_DTYPE
    assert empty_events(3).tolist() == [(0, 0, 0, 0)] * 3
    one = make_events(7, 1, 2, 1)                               # scalars: one event
    check_events(one, [(7, 1, 2, 1)])
