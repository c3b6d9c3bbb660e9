import pytest

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.events.labels import read_labels, write_labels


def test_read_dvsgesture_csv(tmp_path):
    f = tmp_path / "user01_led_labels.csv"
    f.write_text("class,startTime_usec,endTime_usec\r\n1,80048239,85092709\r\n"
                 "11,85092709,90000000\r\n\r\n")
    rows = read_labels(f)
    assert rows.tolist() == [(1, 80048239, 85092709), (11, 85092709, 90000000)]
    write_labels(tmp_path / "w.csv", rows.tolist())
    assert read_labels(tmp_path / "w.csv").tolist() == rows.tolist()


@pytest.mark.parametrize("text,match", [
    ("cls,start,end\n", "line 1: header must be"),
    ("class,startTime_usec,endTime_usec\n12,1,2\n", "line 2.class: class must be in 1..11"),
    ("class,startTime_usec,endTime_usec\n1,5,5\n", "line 2: need 0 <= startTime_usec"),
    ("class,startTime_usec,endTime_usec\n1,a,5\n", "line 2: need 3 integers"),
    ("class,startTime_usec,endTime_usec\n1,2\n", "line 2: need 3 comma-separated"),
    ("", "line 1: header must be"),
    # beyond int64 (was an OverflowError traceback)
    ("class,startTime_usec,endTime_usec\n1,0,5\n1,0,99999999999999999999999\n",
     "line 3: times must be at most 4611686018427387903"),
])
def test_bad_csv(tmp_path, text, match):
    f = tmp_path / "l.csv"
    f.write_text(text)
    with pytest.raises(UserError, match=match):
        read_labels(f)
