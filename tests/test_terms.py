"""Every ledger row names the term of the rule it counts (the ``term`` column), so that a printed
figure → the summary query → ledger rows with ``term`` → the line of ``simulator/rules/`` that
writes them: the terms sum to the phase totals, no two formulas share a row, each term is
written where a reader looks for it, and TESS's weight-gradient terms and BPTT's backward terms
equal their closed forms (docs/math.md), derived here a second way."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import numpy as np
import pytest

from tess_sim.api import activity_of, from_dict, load, run
from tess_sim.simulator.engines.analytical import run_analytical
from tess_sim.simulator.ledger import LedgerError, make_ledger
from tess_sim.simulator.rules.update import ACCUMULATOR, IMMEDIATE
from tess_sim.simulator.network import build_network
from tess_sim.simulator.rules import build_rules
from tess_sim.simulator.rules.program import WorkBuilder
from tess_sim.simulator.vocab import PHASES

from .brute import brute_local_wgrad_terms, brute_shapes

RULES_DIR = Path(__file__).resolve().parents[1] / "simulator" / "rules"
#: modules holding what the rules share (forward pass, pools, traces, readout, optimizer, state)
SHARED = ("forward.py", "pools.py", "traces.py", "readout.py", "update.py", "state.py", "rule.py")
KEY = ["convention", "rule", "layer", "phase", "unit", "action"]


def _variant(d: dict, variant: str) -> dict:
    if variant == "dense":
        d["activity"] = {"source": "dense"}
    if variant == "analog_bias":
        d["input"]["encoding"] = "analog"
        d["network"]["layers"][-1]["bias"] = True
    if variant == "alpha_post0_window":
        for r in ("stllr", "tess"):
            d["rules"][r] = dict(d["rules"][r] or {}, alpha_post=0.0, window=2)
    if variant == "sgd_generated_fast_sigmoid":
        for r in ("bptt", "stllr", "tess"):
            d["rules"][r] = dict(d["rules"][r] or {}, optimizer="sgd")
        d["rules"]["tess"]["lsg_matrix"] = "generated"
        d["neuron"] = {"psi": {"shape": "fast_sigmoid", "slope": 5.0}}
    return d


VARIANTS = ["rates", "dense", "analog_bias", "alpha_post0_window", "sgd_generated_fast_sigmoid"]


def _raw_ledger(wl):
    net = build_network(wl)
    rules = build_rules(wl, net)
    return run_analytical(rules, activity_of(wl, net), wl.hardware.precision, wl.input.batch), rules, net


@pytest.mark.parametrize("engine", ["analytical", "simpy"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_phase_ops_are_the_sum_of_their_terms(small_dict, variant, engine):
    """summary ops_<phase> = Σ of that phase's term rows = Σ of the Works' executed counts (read
    from the rule programs, not from the terms); every Count is the sum of its terms."""
    wl = from_dict(_variant(small_dict, variant))
    res = run(wl, engine)
    net = build_network(wl)
    for rule in build_rules(wl, net):
        works = rule.works(activity_of(wl, net))
        for w in works:
            for c in w.counts:
                assert c.terms, (w.layer, w.phase, c.unit, c.action)
                assert np.allclose(sum(n for _, n in c.terms), c.per_step, rtol=1e-15, atol=0)
        full = res.ledger[(res.ledger["convention"] == "full") & (res.ledger["rule"] == rule.name)
                          & (res.ledger["unit"] == "pe")]
        by_term = full.groupby(["phase", "term"])["count"].sum()
        for phase in PHASES:
            scale = 1.0 / wl.input.batch if phase == "update" else 1.0
            program = sum(float(c.per_step.sum()) * scale for w in works if w.phase == phase
                          for c in w.counts if c.unit == "pe")
            terms = float(by_term[phase].sum()) if phase in by_term.index.get_level_values(0) else 0.0
            assert terms == pytest.approx(program, rel=1e-12, abs=0), (rule.name, phase)
            assert res.summary.loc[rule.name, f"ops_{phase}"] == pytest.approx(terms, rel=1e-12, abs=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_row_names_one_term(small_dict, variant):
    """Both conventions, ops, accesses and holds: a non-empty term on every row, and one row per
    (convention, rule, layer, phase, unit, action, term): no two formulas share a row, no term
    is split over two rows (bit widths included)."""
    led, _, _ = _raw_ledger(from_dict(_variant(small_dict, variant)))
    assert led["term"].map(lambda s: isinstance(s, str) and s.strip() == s and s != "").all()
    dup = led[led.duplicated(KEY + ["term"], keep=False)]
    assert dup.empty, dup
    assert set(led["convention"]) == {"paper", "full"} and (led["action"] == "hold").any()


def test_a_row_without_a_term_is_refused():
    make_ledger([("full", "tess", "c1", "wgrad", "pe", "mac", 1.0, 16, "causal corr(tr_x, m·Psi)")])
    for term in ("", None):
        with pytest.raises(LedgerError, match="names no term"):
            make_ledger([("full", "tess", "c1", "wgrad", "pe", "mac", 1.0, 16, term)])


def test_the_paper_workload_names_one_term_a_row():
    led, _, _ = _raw_ledger(load("dvs"))
    assert led["term"].astype(bool).all()
    assert not led.duplicated(KEY + ["term"]).any()
    # the row the issue found merged (TESS's wgrad mul: m·Psi and m·tr_Psi) is two rows now
    mul = led[(led["rule"] == "tess") & (led["phase"] == "wgrad") & (led["action"] == "mul")
              & (led["layer"] == "conv2")]
    assert sorted(mul["term"]) == ["causal corr(tr_x, m·Psi)", "non-causal corr(x, m·tr_Psi)"]


def _literals(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def test_terms_are_written_in_the_rule_modules(small_dict):
    """Hop 3: grep a term and land on the line that writes it. Each term of a rule is a string
    literal of ``rules/<rule>.py`` or of a shared module; the terms of a rule's own learning
    phases (lsg, bwd, wgrad) for its spiking blocks are literals of ``rules/<rule>.py`` (the
    ``full`` convention; the paper's #MAC of BPTT and S-TLLR is the base class's, rule.py), except
    where the gradient goes, which the update policy decides (``rules/update.py``: the
    accumulator, or the immediate update of ``update: per_step``)."""
    shared = set().union(*(_literals(RULES_DIR / m) for m in SHARED))
    rows = []
    for variant in VARIANTS:
        led, rules, net = _raw_ledger(from_dict(_variant(copy.deepcopy(small_dict), variant)))
        rows.append(led)
    own = {r: _literals(RULES_DIR / f"{r}.py") for r in ("bptt", "stllr", "tess")}
    blocks = {b.name for b in net.blocks}
    for led in rows:
        cols = ["convention", "rule", "layer", "phase", "term"]
        for conv, rule, layer, phase, term in led[cols].drop_duplicates().itertuples(index=False):
            assert term in own[rule] or term in shared, (rule, term)
            if conv == "full" and phase in ("lsg", "bwd", "wgrad") and layer in blocks:
                assert term in own[rule] or term in (ACCUMULATOR, IMMEDIATE), (rule, layer, phase, term)


def _conv_taps(n: int, k: int, s: int, p: int) -> tuple[int, int]:
    """(outputs, in-bounds taps summed over the outputs) along one axis of a conv."""
    out = (n + 2 * p - k) // s + 1
    inside = sum(min(n, o * s - p + k) - max(0, o * s - p) for o in range(out))
    return out, inside


def _closed_shapes(wl) -> dict[str, dict]:
    """N_in, N_pre, F (dense pairs, padding included) and S (in-bounds pairs) per block, from the
    conv output-size arithmetic per axis (docs/math.md §1) — no pair is enumerated."""
    shape, out = tuple(wl.input.shape), {}
    for layer in wl.network.layers:
        if layer.type == "conv":
            c, h, w = shape
            oh, sh = _conv_taps(h, layer.kernel, layer.stride, layer.padding)
            ow, sw = _conv_taps(w, layer.kernel, layer.stride, layer.padding)
            co = layer.out_channels
            out[layer.name] = dict(n_in=c * h * w, n_pre=co * oh * ow, F=co * oh * ow * c * layer.kernel ** 2,
                                   S=co * c * sh * sw)
            shape = (co, oh, ow)
        elif layer.type == "linear":
            n = int(np.prod(shape))
            out[layer.name] = dict(n_in=n, n_pre=layer.out_features, F=n * layer.out_features, S=n * layer.out_features)
            shape = (layer.out_features,)
        elif layer.type in ("maxpool", "avgpool"):
            c, h, w = shape
            shape = (c, h // layer.kernel, w // layer.kernel)
    return out


@pytest.mark.parametrize("variant", ["plain", "analog", "window"])
def test_tess_wgrad_terms_equal_their_closed_forms(small_dict, variant):
    """Each term of TESS's block weight gradients (docs/math.md §3), n learning steps, dense:
    causal corr(tr_x, m·Psi) = n·N_pre mul + n·F MAC, reading tr_x (n·N_in); non-causal
    corr(x, m·tr_Psi) = n·N_pre mul + n·S AC (n·F MAC on analog input), reading tr_Psi (n·N_pre)
    and x (n·N_in); learning signal m[t] read n·N_pre; gradient accumulator g read and written
    n·weights — and the ops equal the step-by-step enumeration of tests/brute.py."""
    d = small_dict
    d["activity"] = {"source": "dense"}
    d["rules"]["tess"] = dict(d["rules"]["tess"] or {}, alpha_post=1.0)
    if variant == "analog":
        d["input"]["encoding"] = "analog"
    if variant == "window":
        d["rules"]["tess"]["window"] = 2
    wl = from_dict(d)
    led = run(wl).ledger
    wg = led[(led["convention"] == "full") & (led["rule"] == "tess") & (led["phase"] == "wgrad")]
    got = wg.groupby(["layer", "term", "unit", "action"])["count"].sum().to_dict()
    n = 2 if variant == "window" else wl.input.T
    shapes = _closed_shapes(wl)
    want = {}
    for i, (name, s) in enumerate(shapes.items()):
        analog = variant == "analog" and i == 0
        want[name, "causal corr(tr_x, m·Psi)", "pe", "mul"] = n * s["n_pre"]
        want[name, "causal corr(tr_x, m·Psi)", "pe", "mac"] = n * s["F"]
        want[name, "causal corr(tr_x, m·Psi)", "traces", "read"] = n * s["n_in"]
        want[name, "non-causal corr(x, m·tr_Psi)", "pe", "mul"] = n * s["n_pre"]
        want[name, "non-causal corr(x, m·tr_Psi)", "pe", "mac" if analog else "ac"] = n * (s["F"] if analog else s["S"])
        want[name, "non-causal corr(x, m·tr_Psi)", "traces", "read"] = n * s["n_pre"]
        want[name, "non-causal corr(x, m·tr_Psi)", "spikes", "read"] = n * s["n_in"]
        want[name, "learning signal m[t]", "errors", "read"] = n * s["n_pre"]
    blocks = {name: b for name, b in ((b["name"], b) for b in brute_shapes(wl)[0])}
    for name in shapes:
        for action in ("read", "write"):
            want[name, "gradient accumulator g", "gradients", action] = n * blocks[name]["weights"]
    mine = {k: v for k, v in got.items() if k[0] in shapes}
    assert mine == pytest.approx(want, rel=0, abs=0)
    brute = brute_local_wgrad_terms(wl, "tess")
    assert {(k[0], k[1], k[3]): v for k, v in mine.items() if k[2] == "pe"} == dict(brute)


def test_bptt_bwd_terms_equal_their_closed_forms(small_dict):
    """BPTT's backward ops per term (docs/math.md §2), dense, T steps, C classes: one softmax
    (C exp, div, add); the readout back-projection T·N_in·C MACs; per block δu = δo·Psi + β·δu
    (2·T·N_pre mul, T·N_pre add); the average pool's routing (T·outputs mul); the error
    propagation T·F MACs for every block but the first."""
    d = small_dict
    d["activity"] = {"source": "dense"}
    wl = from_dict(d)
    led = run(wl).ledger
    bwd = led[(led["convention"] == "full") & (led["rule"] == "bptt") & (led["phase"] == "bwd")
              & (led["unit"] == "pe")]
    got = bwd.groupby(["layer", "term", "action"])["count"].sum().to_dict()
    T, C = wl.input.T, wl.input.classes
    blocks, ro = brute_shapes(wl)
    want = {(ro["name"], "readout softmax + CE gradient", k): C for k in ("exp", "div", "add")}
    want[ro["name"], "readout back-projection W_rᵀ·dL/dy", "mac"] = T * ro["n_in"] * C
    for i, b in enumerate(blocks):
        want[b["name"], "δu[t] = δo[t]·Psi[t] + β·δu[t+1]", "mul"] = 2 * T * b["n_pre"]
        want[b["name"], "δu[t] = δo[t]·Psi[t] + β·δu[t+1]", "add"] = T * b["n_pre"]
        avg = sum(p["n_out"] for p in b["pools"] if p["kind"] == "avg")
        if avg:
            want[b["name"], "δo[t] = pool_lᵀ(δz[t])", "mul"] = T * avg
        if i > 0:
            want[b["name"], "error propagation Wᵀ·δu", "mac"] = T * b["F"]
    assert got == want


def test_a_counts_cap_is_shared_by_its_terms():
    """A phase touching a slice of E elements streams at most E of them a step (placement's
    ``touched``): under the cap each term keeps its count exactly, over it the terms share E in
    proportion, so a spilled buffer's on-chip + DRAM rows of every term sum to that term."""
    wb = WorkBuilder("tess", "c1", "lsg", 3)
    wb.term("lsg projection B·a").read("lsg", "lsg", [1.0, 4.0, 0.0])
    wb.term("lsg back-projection (softmax(p) − onehot)·B").read("lsg", "lsg", [1.0, 2.0, 3.0])
    (c,) = wb.build().counts
    assert c.per_step.tolist() == [2.0, 6.0, 3.0]
    under = dict(c.capped(6.0))
    assert under == {"lsg projection B·a": 5.0, "lsg back-projection (softmax(p) − onehot)·B": 6.0}
    over = dict(c.capped(3.0))  # step 1 caps 6 → 3: shared 4:2
    assert over["lsg projection B·a"] == pytest.approx(1.0 + 2.0)
    assert over["lsg back-projection (softmax(p) − onehot)·B"] == pytest.approx(1.0 + 1.0 + 3.0)
    assert sum(over.values()) == pytest.approx(float(np.minimum(c.per_step, 3.0).sum()))
