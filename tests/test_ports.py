"""Read-only / write-only ports (issue 12): a memory's busy cycles follow the mix of reads and
writes of each piece of work — derived here from the ledger's traffic and the port widths."""

from __future__ import annotations

import copy

import pytest

from tess_sim.api import from_dict, run


@pytest.mark.parametrize("rule", ["bptt", "tess"])
def test_one_read_one_write_port_against_two_read_write_ports(small_dict, rule):
    """Weights alone in ``wmem``: every phase but the optimizer only reads them (a piece of r bits
    takes r / W cycles on 1R + 1W, r / 2W on 2 RW); the optimizer reads and writes each weight
    once (r = w: r / W cycles either way)."""
    busy = {}
    for name, ports in (("1r1w", {"read_ports": 1, "write_ports": 1}), ("2rw", {"rw_ports": 2})):
        d = copy.deepcopy(small_dict)
        d["rules"] = {rule: d["rules"][rule]}
        d["hardware"]["memories"].insert(0, {"name": "wmem", "kind": "sram", "capacity_bytes": 1 << 20,
                                             "word_bits": 64, **ports})
        d["hardware"]["placement"]["weights"] = "wmem"
        res = run(from_dict(d), "simpy")
        t = res.timing
        busy[name] = float(t[(t.scope == "port") & (t.name == "wmem") & (t.metric == "busy_cycles")]["value"].iloc[0])
        led = res.ledger[(res.ledger.memory == "wmem") & (res.ledger.action != "hold")]
        assert set(led["unit"]) == {"weights"} and set(led["action"]) == {"read", "write"}
        bits = led["count"] * led["bits"] / 64  # words
        ro = float(bits[(led.phase != "update") & (led.action == "read")].sum())
        upd = float(bits[(led.phase == "update") & (led.action == "read")].sum())
        assert float(bits[(led.phase != "update") & (led.action == "write")].sum()) == 0
        want = ro + upd if name == "1r1w" else ro / 2 + upd
        assert busy[name] == pytest.approx(want, rel=1e-9)
    assert busy["1r1w"] > busy["2rw"]
