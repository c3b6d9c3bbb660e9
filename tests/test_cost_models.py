"""Cost models: hand-computed energies of small ledgers (numbers typed from docs/energy.md,
not from the code), scaling rules, properties, and the accounting identities of the report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tess_sim.cost_models import NOT_PRICED, cost_report, energy_summary, load_cost_model, price
from tess_sim.cost_models.builtin import Cacti28, Counts, Horowitz45
from tess_sim.api import run
from tess_sim.simulator.engines.analytical import ESTIMATE, estimate_seconds
from tess_sim.simulator.errors import UserError
from tess_sim.simulator.ledger import make_ledger
from tess_sim.simulator.placement import place, with_memory
from tess_sim.simulator.workload import Hardware, Memory
from tess_sim.api import from_dict

HW = Hardware.model_validate({
    "clock_mhz": 100, "cores": 1, "pe": {"units": 4},
    "memories": [{"name": "w", "kind": "sram", "capacity_bytes": 32768, "word_bits": 64},
                 {"name": "m", "kind": "sram", "capacity_bytes": 8192, "word_bits": 64},
                 {"name": "dram", "kind": "dram", "word_bits": 64}],
    "placement": {"weights": "w", "membrane": "m"}})


def tiny_raw():
    """Hand-made, no ``memory`` column: weights 65536 × 8 bit = 64 KiB in a 32 KiB SRAM (half
    spills), membrane fits."""
    rows = [("full", "bptt", "L", "fwd", "pe", "mac", 10, 8, "hand-made"),
            ("full", "bptt", "L", "fwd", "pe", "ac", 100, 16, "hand-made"),
            ("full", "bptt", "L", "neuron", "pe", "cmp", 3, 16, "hand-made"),
            ("full", "bptt", "L", "update", "pe", "div", 2, 16, "hand-made"),
            ("full", "bptt", "L", "fwd", "weights", "read", 50, 8, "hand-made"),
            ("full", "bptt", "L", "neuron", "membrane", "write", 7, 16, "hand-made"),
            ("full", "bptt", "L", "state", "weights", "hold", 65536, 8, "hand-made"),
            ("full", "bptt", "L", "state", "membrane", "hold", 100, 16, "hand-made")]
    return make_ledger(rows)


def tiny_ledger():
    """:func:`tiny_raw` placed on HW as the engines place it (proportional split: no per-step
    counts), so it has the ``memory`` column pricing needs."""
    raw = tiny_raw()
    return with_memory(raw, place(raw, HW))


def total(model, ledger=None, seconds=None, basis="given"):
    p = price(tiny_ledger() if ledger is None else ledger, HW, model, seconds, basis)
    return p, energy_summary(p, tiny_ledger() if ledger is None else ledger).iloc[0]


MUL16 = math.sqrt(0.2 * 3.1)  # Horowitz has 8b 0.2 and 32b 3.1: the log-log midpoint


def test_horowitz45_by_hand():
    p, s = total(Horowitz45())
    compute = 10 * (0.2 + 0.03) + 100 * 0.05 + 3 * 0.05 + 2 * (5 * MUL16 + 2 * 0.05)
    sram = 25 * 20 * 8 / 64 + 7 * 10 * 16 / 64   # 32 KB: 20 pJ / 64 bit; 8 KB: 10 pJ / 64 bit
    dram = 25 * 8 * 1300 / 64                     # the spilled half of the weight reads
    assert s["compute"] == pytest.approx(compute, rel=1e-12)
    assert s["sram"] == pytest.approx(sram, rel=1e-12)
    assert s["dram"] == pytest.approx(dram, rel=1e-12)
    assert np.isnan(s["leakage"]) and s["total"] == pytest.approx(compute + sram + dram)
    assert s["per_sop"] == pytest.approx((compute + sram + dram) / 110)


def test_cacti28_by_hand_and_leakage_is_power_times_time():
    p, s = total(Cacti28(), seconds=2e-3)
    k = 28 / 45
    compute = k * (10 * (0.2 + 0.03) + 100 * 0.05 + 3 * 0.05 + 2 * (5 * MUL16 + 2 * 0.05))
    sram = 25 * 11.03 * 8 / 256 + 7 * 12.77 * 0.25 ** 0.63 * 16 / 256
    dram = 25 * 8 * 1300 / 64
    leak_mw = 12.52 * (32768 + 8192) / 32768    # 2 × 6.26 mW at 32 KB, ∝ capacity
    assert s["compute"] == pytest.approx(compute, rel=1e-12)
    assert s["sram"] == pytest.approx(sram, rel=1e-12)
    assert s["dram"] == pytest.approx(dram, rel=1e-12)
    assert s["leakage"] == pytest.approx(leak_mw * 1e-3 * 2e-3 * 1e12, rel=1e-12)  # W × s → pJ
    assert s["leakage_basis"] == "given"  # a time passed without its basis


def test_counts_by_hand_and_leakage_needs_the_engines_time():
    p, s = total(Counts())
    assert (s["compute"], s["sram"], s["dram"]) == (115, 25 + 7, 25)
    assert np.isnan(s["leakage"])
    _, c = total(Cacti28())  # cacti28 has a leakage power, but no time was given: not priced
    assert np.isnan(c["leakage"]) and np.isnan(c["seconds"]) and c["leakage_basis"] == NOT_PRICED
    assert c["total"] == pytest.approx(c["dynamic"])
    # the analytical engine states its time, ops / (units × cores) / clock: 115 ops / 4 PEs / 100 MHz
    secs = estimate_seconds(tiny_ledger(), HW)
    assert secs == {"bptt": pytest.approx(115 / 4 / 100e6, rel=1e-15)}
    _, e = total(Cacti28(), seconds=secs, basis=ESTIMATE)
    assert e["leakage_basis"] == ESTIMATE
    assert e["leakage"] == pytest.approx(12.52 * 40960 / 32768 * 1e-3 * 115 / 4 / 100e6 * 1e12, rel=1e-12)


def test_table_points_and_scaling_rules():
    h = Horowitz45()
    assert h.op_energy("add", [8, 16, 32]) == pytest.approx([0.03, 0.05, 0.1])
    assert h.op_energy("mul", [8, 32]) == pytest.approx([0.2, 3.1])
    assert h.op_energy("mul", 16) == pytest.approx(MUL16)
    assert h.op_energy("add", 64) == pytest.approx(0.2)          # adders ∝ bits
    assert h.op_energy("mul", 64) == pytest.approx(3.1 * 4)      # multipliers ∝ bits²
    assert h.op_energy("add", 4) == pytest.approx(0.015)
    assert h.op_energy("add", 12) == pytest.approx(0.03 * 1.5 ** math.log2(0.05 / 0.03))
    fp = Horowitz45(arithmetic="fp")                              # the SNN convention's fp32 numbers
    assert fp.op_energy("mac", 32) == pytest.approx(4.6) and fp.op_energy("ac", 32) == pytest.approx(0.9)
    assert fp.op_energy("mac", 16) == pytest.approx(1.5) and fp.op_energy("ac", 16) == pytest.approx(0.4)
    assert h.op_energy("mac", 8) == pytest.approx(0.23) and h.op_energy("ac", 8) == pytest.approx(0.03)
    sram = lambda cap, bits=64: h.access_energy(Memory(name="s", capacity_bytes=cap), "read", bits)  # noqa: E731
    assert [float(sram(c)) for c in (8192, 32768, 1048576)] == pytest.approx([10, 20, 100])
    assert float(sram(32768, 32)) == pytest.approx(10)            # ∝ bits moved
    dram = Memory(name="d", kind="dram")
    assert float(h.access_energy(dram, "read", 32)) == pytest.approx(650)  # ≈ the convention's 640 pJ


def test_cacti_alpha_reproduces_the_second_published_point():
    c = Cacti28()
    big = Memory(name="s", capacity_bytes=144 * 1024, word_bits=256)
    assert float(c.access_energy(big, "read", 256)) == pytest.approx(28.63, rel=0.01)
    assert float(c.access_energy(big, "write", 256)) == pytest.approx(12.77 * 4.5 ** 0.63)
    assert c.leakage_mw(big) == pytest.approx(12.52 * 4.5)
    c2 = Cacti28(alpha=0.78)
    assert float(c2.access_energy(big, "read", 256)) == pytest.approx(11.03 * 4.5 ** 0.78)


def test_access_in_whole_words_and_voltage():
    m = Memory(name="s", capacity_bytes=32768, word_bits=64)
    words = Horowitz45(access="words")
    assert float(words.access_energy(m, "read", 1)) == pytest.approx(20)     # a 1-bit spike moves a word
    assert float(words.access_energy(m, "read", 65)) == pytest.approx(40)
    assert float(Horowitz45().access_energy(m, "read", 1)) == pytest.approx(20 / 64)
    low = Horowitz45(vdd=0.45)
    assert float(low.op_energy("add", 8)) == pytest.approx(0.03 / 4)
    assert float(low.access_energy(Memory(name="d", kind="dram"), "read", 8)) == pytest.approx(8 * 1300 / 64)


def test_a_ledger_without_memory_is_refused_and_the_memory_column_is_used_as_given():
    for model in (Horowitz45(), Cacti28(), Counts()):  # pricing never places buffers itself
        for raw in (tiny_raw(), tiny_raw().drop(columns="memory")):  # not placed, or no column at all
            with pytest.raises(UserError, match=r"ledger: memory: does not say which memory serves each access"):
                price(raw, HW, model)
    placed = tiny_ledger()
    moved = placed.assign(memory=np.where(placed["unit"] == "pe", "", "dram"))  # all traffic to DRAM
    s = energy_summary(price(moved, HW, Horowitz45()), placed).iloc[0]
    assert s["sram"] == 0 and s["dram"] == pytest.approx(50 * 8 * 1300 / 64 + 7 * 16 * 1300 / 64)


def test_unpriceable_action_is_named():
    table = {"name": "addonly", "ops": {"add": {"points": {8: 1}, "exponent": 1, "source": "test"}},
             "sram": {"word_bits": 8, "read": {"points": {1: 1}, "exponent": 0, "source": "t"}},
             "dram": {"read_pj_per_bit": 1, "write_pj_per_bit": 1, "source": "t"}}
    from tess_sim.cost_models.table import TableModel

    with pytest.raises(UserError, match=r"pe\.(mac|ac|cmp|div).*cannot price op"):
        price(tiny_ledger(), HW, TableModel(table))


# --------------------------------------------------------------------------- properties
MODELS = [Horowitz45(), Horowitz45(arithmetic="fp"), Horowitz45(access="words", vdd=0.6), Cacti28(), Cacti28(alpha=0.3)]
OPS = ["mac", "ac", "add", "mul", "cmp", "exp", "div", "sqrt"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.sampled_from(OPS), st.integers(1, 63), st.integers(1, 64))
def test_op_energy_monotone_in_bits(model, op, b, extra):
    assert model.op_energy(op, b + extra) >= model.op_energy(op, b) > 0


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.sampled_from(["read", "write"]), st.integers(1, 2**24),
       st.integers(1, 2**24), st.integers(1, 64), st.integers(0, 64))
def test_access_energy_monotone_in_capacity_and_bits(model, action, cap, more, b, extra):
    small, big = Memory(name="a", capacity_bytes=cap), Memory(name="b", capacity_bytes=cap + more)
    assert model.access_energy(big, action, b) >= model.access_energy(small, action, b) > 0
    assert model.access_energy(small, action, b + extra) >= model.access_energy(small, action, b)
    if model.leakage_mw(small) is not None:
        assert model.leakage_mw(big) >= model.leakage_mw(small)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(MODELS + [Counts()]), st.integers(0, 5), st.floats(1.0, 100.0))
def test_energy_monotone_in_counts(model, row, factor):
    led = tiny_ledger()
    more = led.copy()
    more.loc[row, "count"] *= factor
    a, b = price(led, HW, model, 1e-3), price(more, HW, model, 1e-3)
    assert b.rows["energy"].sum() >= a.rows["energy"].sum()
    assert (b.rows["energy"].to_numpy() >= a.rows["energy"].to_numpy() - 1e-12).all()


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 10), st.sampled_from([Cacti28(), Cacti28(alpha=1.0)]))
def test_leakage_is_power_times_time(seconds, model):
    p = price(tiny_ledger(), HW, model, {"bptt": seconds})
    power = sum(model.leakage_mw(m) for m in HW.memories if m.kind == "sram")
    assert p.leakage["energy"].iloc[0] == pytest.approx(power * seconds * 1e9)
    assert p.leakage["power_mw"].iloc[0] == pytest.approx(12.52 * 40960 / 32768)


def test_zero_activity_gives_zero_dynamic_energy(small_dict):
    led = tiny_ledger()
    zero = led.assign(count=np.where(led["action"] == "hold", led["count"], 0.0))
    for model in MODELS + [Counts()]:
        s = energy_summary(price(zero, HW, model), zero).iloc[0]
        assert s["dynamic"] == 0
    small_dict["activity"] = {"source": "rates", "input": 0.0, "default": 0.0}
    res = run(from_dict(small_dict))
    rep = cost_report(res, ["horowitz45"])
    rows = rep.priced[0].rows  # no input events: no synaptic op, no weight read is priced
    syn = rows[(rows["phase"] == "fwd") & (rows["action"].isin(["ac", "mac"]) | (rows["unit"] == "weights"))]
    assert syn["energy"].sum() == 0
    # what remains in the forward phase is activity-independent: the readout bias add (16 bits,
    # 4 classes × T = 4) and BPTT's dense 1-bit spike-history writes
    fwd = rows[rows["phase"] == "fwd"]
    assert set(zip(fwd["unit"], fwd["action"])) <= {("pe", "add"), ("history", "write")}


def test_report_accounting_identities(small_dict):
    """The total is the sum of its categories, of its phases, of its layers and of its memories."""
    res = run(from_dict(small_dict))
    rep = cost_report(res, ["counts", "horowitz45", {"model": "cacti28", "alpha": 0.7}])
    assert list(rep.summary["model"].unique()) == ["counts", "horowitz45", "cacti28"]
    for (model, rule), g in rep.breakdown.groupby(["model", "rule"]):
        tot = rep.summary[(rep.summary["model"] == model) & (rep.summary["rule"] == rule)]["total"].iloc[0]
        for by, gb in g.groupby("by"):
            assert gb["energy"].sum() == pytest.approx(tot), (model, rule, by)
    # counts model: the compute column is the ledger's op count, summed independently
    full = res.ledger[(res.ledger["convention"] == "full") & (res.ledger["unit"] == "pe")]
    c = rep.summary[rep.summary["model"] == "counts"].set_index("rule")
    for rule, n in full.groupby("rule")["count"].sum().items():
        assert c.loc[rule, "compute"] == pytest.approx(n)
    # recorded: which model, which parameters, which sources
    d = rep.to_dict()["cost_models"]
    assert d[2]["params"]["alpha"] == 0.7 and "CACTI" in d[2]["sources"]["sram.read"]
    assert '"alpha": 0.7' in rep.summary[rep.summary["model"] == "cacti28"]["params"].iloc[0]


def test_same_model_twice_is_labelled():
    from tess_sim.api import load

    from .conftest import WORKLOADS

    res = run(load(WORKLOADS / "small.yaml"))
    rep = cost_report(res, ["cacti28", {"model": "cacti28", "alpha": 0.5}])
    assert list(rep.summary["model"].unique()) == ["cacti28#1", "cacti28#2"]


def test_unknown_parameter_is_named():
    with pytest.raises(UserError, match="alpah.*did you mean 'alpha'"):
        load_cost_model({"model": "cacti28", "alpah": 0.5})


def test_table_area_and_leakage_curves():
    from tess_sim.cost_models.table import TableModel

    table = {"name": "t", "ops": {"add": {"points": {8: 1}, "exponent": 1, "source": "s"}},
             "sram": {"word_bits": 64, "read": {"points": {1024: 1}, "exponent": 0.5, "source": "s"},
                      "leakage_mw": {"points": {1024: 0.5}, "exponent": 1, "source": "s"},
                      "area_mm2": {"points": {1024: 0.01, 4096: 0.03}, "exponent": 1, "source": "s"}}}
    m = TableModel(table)
    hw = Hardware.model_validate({"cores": 2, "memories": [{"name": "a", "capacity_bytes": 4096},
                                                           {"name": "b", "capacity_bytes": 1024}]})
    raw = make_ledger([("full", "tess", "L", "fwd", "pe", "add", 4, 8, "hand-made"),
                       ("full", "tess", "L", "state", "weights", "hold", 10, 8, "hand-made")])
    led = with_memory(raw, place(raw, hw))
    p = price(led, hw, m, seconds=1e-6)
    assert p.area_mm2 == pytest.approx(2 * (0.03 + 0.01))            # per memory × cores
    assert p.leakage["power_mw"].iloc[0] == pytest.approx(2 * (0.5 * 4 + 0.5))
    assert p.leakage["energy"].iloc[0] == pytest.approx(2 * 2.5 * 1e-3 * 1e-6 * 1e12)
    assert price(led, hw, Horowitz45()).area_mm2 is None


# ------------------------------------------------------------- non-finite and impossible numbers
BAD = [float("nan"), float("inf"), float("-inf"), 1e308]
PARAM_FIELDS = {  # each built-in model's numeric parameters (a recipe count is one too)
    "horowitz45": ["vdd", "op_scale", "alpha", "dram_pj_per_bit", "recipes.div.mul"],
    "cacti28": ["vdd", "op_scale", "alpha", "dram_pj_per_bit", "recipes.exp.add"],
}


def _set(d: dict, path: str, value):
    *head, last = path.split(".")
    for k in head:
        d = d.setdefault(k, {})
    d[last] = value


def _finite_or_named(load, field: str, where: str | None = None):
    """Either a UserError naming ``field`` (and ``where``), or a finite pricing of the ledger."""
    try:
        model = load()
        _, row = total(model)
    except UserError as exc:
        assert field in exc.line(), exc.line()
        assert where is None or exc.line().startswith(where), exc.line()
        return
    assert np.isfinite(row[["compute", "sram", "dram", "dynamic", "total"]].to_numpy(float)).all(), row


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([(m, f) for m, fs in PARAM_FIELDS.items() for f in fs]), st.sampled_from(BAD))
def test_bad_numbers_in_builtin_parameters_are_refused(model_field, value):
    """Issue 15.3: cacti28 alpha: nan used to make SRAM energy 0; alpha: inf, op_scale: 1e308 or a
    recipe of .inf made totals inf."""
    model, field = model_field
    spec = {"model": model}
    _set(spec, field, value)
    _finite_or_named(lambda: load_cost_model(spec, where="w.yaml", field="cost_models[0]"),
                     f"cost_models[0].{field}", "w.yaml")


TABLE = {"name": "t", "vdd_ref": 0.9,
         "ops": {"add": {"points": {8: 0.03, 32: 0.1}, "exponent": 1, "source": "s"},
                 "mul": {"points": {8: 0.2}, "exponent": 2, "source": "s"},
                 **{k: {"recipe": {"mul": 1, "add": 1}, "source": "s"} for k in ("mac", "div")},
                 **{k: {"recipe": {"add": 1}, "source": "s"} for k in ("ac", "cmp")}},
         "sram": {"word_bits": 64, "read": {"points": {8192: 10.0}, "exponent": 0.5, "source": "s"},
                  "leakage_mw": {"points": {8192: 1.0}, "exponent": 1, "source": "s"}},
         "dram": {"read_pj_per_bit": 20, "write_pj_per_bit": 20, "source": "s"}}
TABLE_FIELDS = ["vdd_ref", "ops.add.points.8", "ops.add.exponent", "ops.mul.points.8", "ops.div.recipe.mul",
                "sram.word_bits", "sram.read.points.8192", "sram.read.exponent", "sram.leakage_mw.points.8192",
                "dram.read_pj_per_bit", "dram.write_pj_per_bit", "ops.add.points.<key>"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(TABLE_FIELDS), st.sampled_from(BAD))
def test_bad_numbers_in_a_yaml_table_are_refused(tmp_path_factory, field, value):
    """A table point, exponent or recipe of .nan / .inf / 1e308 names the file and field."""
    import copy

    import yaml

    table = copy.deepcopy(TABLE)
    named = field
    if field.endswith("<key>"):  # a point's x (bits) itself
        table["ops"]["add"]["points"] = {value: 0.1}
        named = "ops.add.points"
    else:
        *head, last = field.split(".")
        d = table
        for k in head:
            d = d[k]
        d[int(last) if last.isdigit() else last] = value
        named = f"{'.'.join(head)}[{last}]" if last.isdigit() else field
    path = tmp_path_factory.mktemp("t") / "t.yaml"
    path.write_text(yaml.safe_dump(table))
    _finite_or_named(lambda: load_cost_model(str(path)), named, str(path))


def test_nan_alpha_no_longer_zeroes_sram_energy():
    with pytest.raises(UserError, match="alpha: cost model cacti28: must be a number ≥ 0 and ≤ 4 .got nan"):
        load_cost_model({"model": "cacti28", "alpha": float("nan")})


def test_a_plugin_returning_inf_is_named():
    class Inf(Counts):
        name = "inf"

        def op_energy(self, kind, bits):
            return np.full(np.shape(bits), np.inf)

    with pytest.raises(UserError, match=r"cost model inf: pe\.\w+: gives energy inf"):
        total(Inf())
