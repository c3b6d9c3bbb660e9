"""Activity: how many events each layer sees at each step, per sample.

An :class:`ActivityProfile` gives, per layer (every block and the readout), float arrays over the
T steps:

- ``in_events``   non-zero input elements (input spikes; analog pixels for an analog first layer)
- ``syn_ops``     effective synaptic operations: Σ over those input elements of their border-exact
                  fan-out (≤ the layer's dense border-exact count S)
- ``out_spikes``  spikes of the layer's neurons, before pooling (0 for the non-spiking readout)
- ``post_events`` non-zero block outputs after pooling (what the next layer receives)
- ``membrane_updates`` (spiking blocks, when measured or recorded; else None) post-reset membranes
                  that changed at step t, every neuron at t = 0: NeuroBench's ``MembraneUpdates``

and, when measured (or recorded), ``operands``: the learning phases' non-zero operands and the
exact op counts of their contractions with a zero operand skipped (:data:`OPERAND_COLUMNS`); the
rule programs count those ops under the hardware's ``pe.zero``. Without them every learning op is
counted dense.

Sources: ``dense`` (every element active every step, the paper's convention) and ``rates``
(expected counts from firing rates, assuming spikes spread uniformly and independently over
space: a k×k pooling window is active with probability 1 − (1 − r)^(k²)). Measured and recorded
activity fill the same profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tess_sim.simulator.errors import UserError
from tess_sim.simulator.network import Block, Net
from tess_sim.simulator.workload import DenseActivity, FileActivity, MeasuredActivity, RatesActivity


#: The learning operands a measured profile carries per spiking block (float arrays [T], per
#: sample), by column name: (what bounds it — ``neurons`` N_pre, ``inputs`` N_in, ``ops`` the
#: dense op count F —, what it counts). ``*_nonzero`` are densities' numerators (elements ≠ 0);
#: ``*_ops`` are exact op counts of a learning contraction with every zero-operand pair skipped
#: (border-exact: padding is no operand). Prefixes name the rule whose operand it is; the local
#: rules' traces have their own λ, so each its own columns. Which op each column counts:
#: :mod:`simulator.rules` (docs/functional.md, Operand densities).
OPERAND_COLUMNS: dict[str, tuple[str, str]] = {
    "psi_nonzero": ("neurons", "neurons with Psi[t] ≠ 0 (every rule)"),
    "bptt_signal_nonzero": ("neurons", "BPTT: δu[t] ≠ 0 (its bias gradient's adds)"),
    "bptt_surrogate_ops": ("neurons", "BPTT: multiplies δo[t]·Psi[t] with δo ≠ 0 and Psi ≠ 0"),
    "bptt_prop_ops": ("ops", "BPTT: MACs of Wᵀ·δu over δu ≠ 0 (border-exact fan-in; blocks after the first)"),
    "bptt_wgrad_ops": ("ops", "BPTT: products of corr(x[t], δu[t]) with x ≠ 0 and δu ≠ 0"),
}
for _r, _R in (("stllr", "S-TLLR"), ("tess", "TESS")):
    OPERAND_COLUMNS.update({
        f"{_r}_trace_nonzero": ("inputs", f"{_R}: input traces tr_x[t] ≠ 0"),
        f"{_r}_trace_psi_nonzero": ("neurons", f"{_R}: post traces tr_Psi[t] ≠ 0 (alpha_post ≠ 0)"),
        f"{_r}_signal_nonzero": ("neurons", f"{_R}: learning signal m[t]·Psi[t] ≠ 0 (m ≠ 0 and Psi ≠ 0)"),
        f"{_r}_post_nonzero": ("neurons", f"{_R}: m[t]·tr_Psi[t−1] ≠ 0 (alpha_post ≠ 0)"),
        f"{_r}_causal_ops": ("ops", f"{_R}: products of corr(tr_x[t], m·Psi) with both ≠ 0"),
        f"{_r}_noncausal_ops": ("ops", f"{_R}: products of corr(x[t], m·tr_Psi[t−1]) with both ≠ 0"),
    })
OPERAND_COLUMNS["stllr_prop_ops"] = ("ops", "S-TLLR: MACs of Wᵀ·(m·Psi) over m·Psi ≠ 0 (blocks after the first)")
del _r, _R


@dataclass(frozen=True)
class LayerActivity:
    """Per-step activity of one layer; every field is a float array of shape [T] (per sample).
    ``operands``: the measured learning operands of :data:`OPERAND_COLUMNS` (empty: not measured,
    every learning op counts dense); ``membrane_updates``: see the module docstring (None: not
    known — rates and files without the column)."""

    in_events: np.ndarray
    syn_ops: np.ndarray
    out_spikes: np.ndarray
    post_events: np.ndarray
    operands: dict[str, np.ndarray] = field(default_factory=dict)
    membrane_updates: np.ndarray | None = None

    def operand(self, column: str, when=1.0) -> np.ndarray | None:
        """The measured ``column`` [T] times ``when`` (e.g. a learning mask), or None when not
        measured (the rule then counts the op dense)."""
        got = self.operands.get(column)
        return None if got is None else got * np.asarray(when, dtype=float)


@dataclass(frozen=True)
class ActivityProfile:
    """Activity of every layer (blocks and readout, by name) and where it came from."""

    source: str
    description: str
    layers: dict[str, LayerActivity]

    def __getitem__(self, name: str) -> LayerActivity:
        return self.layers[name]

    def at_T(self, T: int) -> "ActivityProfile":
        """The same activity over T steps: every count at its mean per step (exact for dense and
        rates; for measured or recorded activity, the mean rates carried to another T)."""
        def flat(a: np.ndarray) -> np.ndarray:
            return np.full(T, float(np.mean(a)))

        layers = {k: LayerActivity(flat(a.in_events), flat(a.syn_ops), flat(a.out_spikes), flat(a.post_events),
                                   {c: flat(v) for c, v in a.operands.items()},
                                   None if a.membrane_updates is None else flat(a.membrane_updates))
                  for k, a in self.layers.items()}
        return ActivityProfile(self.source, self.description, layers)

    def rates(self, net: Net) -> dict[str, float]:
        """Mean firing rate of every spiking block over the steps (spikes / neurons / step)."""
        return {b.name: float(self.layers[b.name].out_spikes.mean() / b.N_pre) for b in net.blocks}

    @property
    def measured_operands(self) -> bool:
        """Whether some layer carries measured learning operands (:data:`OPERAND_COLUMNS`)."""
        return any(a.operands for a in self.layers.values())


def layer_from_counts(net: Net, counts: dict[str, dict[str, np.ndarray]]) -> dict[str, LayerActivity]:
    """The layers of a measured or recorded profile from per-layer count dicts (the keys of
    :func:`~simulator.functional.activity.forward_counts`, and :data:`OPERAND_COLUMNS`, each
    ``[T]`` per sample); the readout's missing spikes and post events are zeros."""
    zeros = np.zeros(net.T)
    layers = {}
    for b in net.layers:
        c = counts[b.name]
        layers[b.name] = LayerActivity(c["in_events"], c["syn_ops"], c.get("out_spikes", zeros),
                                       c.get("post_events", zeros),
                                       {k: v for k, v in c.items() if k in OPERAND_COLUMNS},
                                       c.get("membrane_updates"))
    return layers


def _pooled_rate(block: Block, rate: float) -> float:
    """Probability that a block output is non-zero after its pools, for neuron rate ``rate``."""
    h, w = block.pre_shape[1:] if len(block.pre_shape) == 3 else (1, 1)
    for pool in block.pools:
        rate = 1.0 - (1.0 - rate) ** pool.window(h, w)
        h, w = pool.out_hw(h, w)
    return rate


def from_rates(net: Net, input_rate: float, block_rates: dict[str, float], description: str,
               source: str = "rates") -> ActivityProfile:
    """Expected counts from an input event rate and a firing rate per spiking block."""
    ones = np.ones(net.T)
    layers: dict[str, LayerActivity] = {}
    rate_in = input_rate
    for b in net.blocks:
        r = block_rates[b.name]
        post = _pooled_rate(b, r)
        layers[b.name] = LayerActivity(rate_in * b.N_in * ones, rate_in * b.S * ones,
                                       r * b.N_pre * ones, post * b.N_post * ones)
        rate_in = post
    ro = net.readout
    layers[ro.name] = LayerActivity(rate_in * ro.N_in * ones, rate_in * ro.S * ones,
                                    0.0 * ones, 0.0 * ones)
    return ActivityProfile(source, description, layers)


def dense(net: Net) -> ActivityProfile:
    """Every element active every step: the upper bound the paper's counts use (every neuron's
    membrane is updated every step)."""
    from dataclasses import replace

    p = from_rates(net, 1.0, {b.name: 1.0 for b in net.blocks},
                   "dense: every input element and neuron active every step", source="dense")
    for b in net.blocks:
        p.layers[b.name] = replace(p.layers[b.name], membrane_updates=np.full(net.T, float(b.N_pre)))
    return p


def build_activity(net: Net, spec, where: str = "<workload>") -> ActivityProfile:
    """The profile a workload's ``activity`` section asks for: dense, rates or a recorded file
    (measured activity runs the functional engine: :func:`tess_sim.simulator.measured.bridge.measured_profile`)."""
    if isinstance(spec, DenseActivity):
        return dense(net)
    if isinstance(spec, RatesActivity):
        names = {b.name for b in net.blocks}
        for name in spec.layers:
            if name not in names:
                import difflib

                hint = difflib.get_close_matches(name, sorted(names), n=1)
                raise UserError(where, f"activity.layers.{name}", "no spiking layer of that name"
                                + (f" (did you mean '{hint[0]}'?)" if hint else f" (layers: {', '.join(sorted(names))})"))
        rates = {b.name: spec.layers.get(b.name, spec.default) for b in net.blocks}
        desc = f"rates: input {spec.input:g}, " + ", ".join(f"{k} {v:g}" for k, v in rates.items())
        return from_rates(net, spec.input, rates, desc)
    if isinstance(spec, MeasuredActivity):
        raise ValueError("measured activity is measured by simulator.measured.bridge.measured_profile")
    if isinstance(spec, FileActivity):
        from pathlib import Path

        path = Path(spec.path)
        if not path.is_absolute() and where not in ("<workload>",):
            path = Path(where).parent / path
        if not path.exists():
            raise UserError(where, "activity.path", f"activity file '{spec.path}' not found (looked at {path})")
        return read_activity_csv(path, net)
    raise UserError(where, "activity.source", f"unsupported activity source {spec!r}")


# --------------------------------------------------------------------------- recorded activity
BASE_COLUMNS = ["layer", "step", "spikes", "in_events", "syn_ops", "post_events"]
BLOCK_COLUMNS = {"membrane_updates": ("neurons", "post-reset membranes changed at step t (t = 0: every neuron)"),
                 **OPERAND_COLUMNS}
"""The optional per-spiking-block columns (never derived): NeuroBench's membrane updates and the
learning operands."""
FILE_COLUMNS = BASE_COLUMNS + list(BLOCK_COLUMNS)
#: NeuroBench's metric names accepted as column names (docs/neurobench.md): each is the per-layer,
#: per-step quantity whose sum over layers and steps is that NeuroBench metric
NEUROBENCH_ALIASES = {"synops": "syn_ops", "SynapticOperations": "syn_ops", "Effective_ACs": "syn_ops",
                      "Effective_MACs": "syn_ops", "MembraneUpdates": "membrane_updates"}
"""Activity CSV: one row per layer and step, per sample. ``layer`` is a spiking block name, the
readout's name, or ``input`` (whose ``spikes`` are the input events; its other cells stay empty).
Required: layer, step, spikes (or NeuroBench's ``ActivationSparsity``, the fraction of zeros:
spikes = (1 − sparsity) × neurons); the other columns are optional (NeuroBench's names
:data:`NEUROBENCH_ALIASES` are accepted; ``Dense``, when given, must equal the layer's S) and, when
absent, derived: ``in_events`` of a block = the previous block's ``post_events`` (the ``input`` row for the first); ``post_events`` = ``spikes``
for a block without pools, else the independence estimate of :func:`_pooled_rate`; ``syn_ops`` =
``in_events`` × the layer's mean border-exact fan-out S / N_in (exact when events spread
uniformly). ``membrane_updates`` and the learning-operand columns of :data:`OPERAND_COLUMNS`
(``psi_nonzero``, ``bptt_prop_ops``, ...) are optional per column and per spiking block, never
derived: where the operands are absent the rule programs count those learning ops dense. Every cell is a finite number ≥ 0, at most what
its layer can do in one step (an operand column: its layer's neurons N_pre, inputs N_in or dense
op count F, as :data:`OPERAND_COLUMNS` says)."""


def write_activity_csv(profile: ActivityProfile, net: Net) -> str:
    """The profile as an activity CSV (every base column, an ``input`` row per step, and the
    operand columns some layer carries, empty where a layer has none)."""
    import io

    import pandas as pd

    def cells(a: LayerActivity) -> dict[str, np.ndarray]:
        got = dict(a.operands)
        if a.membrane_updates is not None:
            got["membrane_updates"] = a.membrane_updates
        return got

    per_layer = {b.name: cells(profile[b.name]) for b in net.layers}
    operands = [c for c in BLOCK_COLUMNS if any(c in got for got in per_layer.values())]
    nan = [np.nan] * len(operands)
    first = profile[net.blocks[0].name]
    rows = [["input", t, first.in_events[t], np.nan, np.nan, np.nan] + nan for t in range(net.T)]
    for b in net.layers:
        a, got = profile[b.name], per_layer[b.name]
        rows += [[b.name, t, a.out_spikes[t], a.in_events[t], a.syn_ops[t], a.post_events[t]]
                 + [got[c][t] if c in got else np.nan for c in operands] for t in range(net.T)]
    buf = io.StringIO()
    pd.DataFrame(rows, columns=BASE_COLUMNS + operands).to_csv(buf, index=False)
    return buf.getvalue()


def _limits(net: Net) -> dict[str, dict[str, tuple[int, str]]]:
    """Per layer (and ``input``) and column: the most a layer can do in one step, and of what."""
    out = {"input": {"spikes": (net.blocks[0].N_in, "input elements")}}
    for b in net.layers:
        out[b.name] = {"spikes": (b.N_pre, "neurons"), "in_events": (b.N_in, "inputs"),
                       "syn_ops": (b.S, "dense synaptic operations"), "post_events": (b.N_post, "outputs")}
        if b.spiking:
            bound = {"neurons": (b.N_pre, "neurons"), "inputs": (b.N_in, "inputs"), "ops": (b.F, "dense ops")}
            out[b.name].update({c: bound[kind] for c, (kind, _) in BLOCK_COLUMNS.items()})
    return out


def _numeric_cells(df, path, col: str):
    """Column ``col`` as floats (NaN where the cell is empty); a cell that is not a finite
    number ≥ 0 is a UserError naming its row."""
    import pandas as pd

    raw = df[col].fillna("").str.strip()  # a short row's missing cells are empty
    empty = raw == ""
    vals = pd.to_numeric(raw.where(~empty), errors="coerce").astype(float)
    bad = ~empty & ~(np.isfinite(vals) & (vals >= 0))
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise UserError(str(path), f"row {i + 2}.{col}", f"must be a finite number ≥ 0, got {df[col].iloc[i]!r}")
    return vals, empty


def _neurobench_columns(df, path, net: Net):
    """NeuroBench's names to ours (:data:`NEUROBENCH_ALIASES`): two columns for one of ours is a
    UserError; ``ActivationSparsity`` becomes ``spikes`` (× the layer's neurons, the input's
    elements); ``Dense`` is checked against each layer's S and dropped."""
    import pandas as pd

    seen: dict[str, str] = {c: c for c in df.columns if c in FILE_COLUMNS}
    for col in list(df.columns):
        ours = NEUROBENCH_ALIASES.get(col)
        if ours is None:
            continue
        if ours in seen:
            raise UserError(str(path), col, f"a second column for {ours} (also '{seen[ours]}'): give one")
        seen[ours] = col
        df = df.rename(columns={col: ours})
    if "ActivationSparsity" in df.columns:
        if "spikes" in df.columns:
            raise UserError(str(path), "ActivationSparsity", "give spikes or ActivationSparsity, not both")
        size = {"input": net.blocks[0].N_in, **{b.name: b.N_pre for b in net.blocks}}
        vals = pd.to_numeric(df["ActivationSparsity"].str.strip(), errors="coerce")
        bad = ~((vals >= 0) & (vals <= 1))
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise UserError(str(path), f"row {i + 2}.ActivationSparsity",
                            f"must be a fraction in 0..1, got {df['ActivationSparsity'].iloc[i]!r}")
        n = df["layer"].str.strip().map(size)
        df["spikes"] = [("" if pd.isna(k) else repr(float((1 - v) * k))) for v, k in zip(vals, n)]
        df = df.drop(columns="ActivationSparsity")
    if "Dense" in df.columns:
        dense_s = {b.name: b.S for b in net.layers}
        for i, (layer, cell) in enumerate(zip(df["layer"].str.strip(), df["Dense"].str.strip())):
            if cell == "" or layer not in dense_s:
                continue
            try:
                got = float(cell)
            except ValueError:
                got = float("nan")
            if not got == dense_s[layer]:
                raise UserError(str(path), f"row {i + 2}.Dense", f"{cell} is not layer '{layer}''s dense synaptic "
                                f"operations per step ({dense_s[layer]}): the file is of another network")
        df = df.drop(columns="Dense")
    return df


def read_activity_csv(path, net: Net, where: str | None = None) -> ActivityProfile:
    """Read an activity CSV (see :data:`FILE_COLUMNS`) for ``net``; mistakes raise UserError
    naming the file, the row and column: every cell a finite number ≥ 0 and at most what its
    layer can do in one step (spikes ≤ neurons, in_events ≤ inputs, syn_ops ≤ the dense
    border-exact count S, post_events ≤ outputs), steps integers 0..T-1, one row per step."""
    import difflib

    import pandas as pd

    where = where or str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)  # 'nan' / 'inf' are refused, not missing
    except FileNotFoundError:
        raise UserError(str(path), "", "activity file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(str(path), "", f"not a readable CSV: {str(exc).splitlines()[0]}") from None
    df = _neurobench_columns(df, path, net)
    for col in ("layer", "step", "spikes"):
        if col not in df.columns:
            raise UserError(str(path), col, f"required column missing (columns: {', '.join(df.columns)})")
    extra = set(df.columns) - set(FILE_COLUMNS)
    if extra:
        raise UserError(str(path), sorted(extra)[0], f"unknown column (known: {', '.join(FILE_COLUMNS)})")
    df["layer"] = df["layer"].fillna("").str.strip()
    if (df["layer"] == "").any():
        raise UserError(str(path), f"row {int((df['layer'] == '').to_numpy().argmax()) + 2}.layer", "empty")
    names = {b.name: b for b in net.layers}
    for name in df["layer"].unique():
        if name != "input" and name not in names:
            hint = difflib.get_close_matches(str(name), sorted(names) + ["input"], n=1)
            raise UserError(str(path), "layer", f"unknown layer '{name}'" + (
                f" (did you mean '{hint[0]}'?)" if hint else f" (layers: input, {', '.join(names)})"))
    step, empty = _numeric_cells(df, path, "step")
    bad = empty | (step != np.round(step)) | (step >= net.T)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise UserError(str(path), f"row {i + 2}.step", f"must be an integer step in 0..{net.T - 1} (the workload's "
                        f"T = {net.T}), got {df['step'].iloc[i]!r}")
    df["step"] = step.astype(int)
    dup = df.duplicated(["layer", "step"])
    if dup.any():
        i = int(dup.to_numpy().argmax())
        raise UserError(str(path), f"row {i + 2}.step", f"a second row for layer '{df['layer'].iloc[i]}' step "
                        f"{df['step'].iloc[i]}")
    limits = _limits(net)
    for col in [c for c in FILE_COLUMNS[2:] if c in df.columns]:
        vals, empty = _numeric_cells(df, path, col)
        for layer, rows in df.groupby("layer", sort=False).groups.items():
            e = empty.loc[rows]
            if layer == "input" and col != "spikes" and not e.all():  # would be ignored: refuse
                i = int(df.index.get_loc(e[~e].index[0]))
                raise UserError(str(path), f"row {i + 2}.{col}", "the input rows give only spikes (the input "
                                f"events); leave {col} empty")
            if col in BLOCK_COLUMNS and col not in limits[layer] and not e.all():
                i = int(df.index.get_loc(e[~e].index[0]))
                raise UserError(str(path), f"row {i + 2}.{col}", f"layer '{layer}' does not learn through "
                                f"this operand (only spiking blocks have {col}); leave it empty")
            if e.any() and not e.all():
                i = int(df.index.get_loc(e[e].index[0]))
                raise UserError(str(path), f"row {i + 2}.{col}", f"empty, but other rows of layer '{layer}' give "
                                f"{col}: give it in every row of the layer or in none")
            if col in limits[layer]:
                most, what = limits[layer][col]
                over = vals.loc[rows] > most * (1 + 1e-9)
                if over.any():
                    i = int(df.index.get_loc(over[over].index[0]))
                    raise UserError(str(path), f"row {i + 2}.{col}", f"{vals.iloc[i]:g} is more than layer "
                                    f"'{layer}' can do in one step ({most} {what})")
        df[col] = vals
    steps = list(range(net.T))

    def column(layer: str, col: str) -> np.ndarray | None:
        rows = df[df["layer"] == layer]
        if rows.empty or col not in rows or rows[col].isna().all():
            return None
        got = sorted(rows["step"])
        if got != steps:
            raise UserError(str(path), f"{layer}.step", f"needs one row for each step 0..{net.T - 1} "
                            f"(the workload's T), got {len(got)} rows")
        return rows.sort_values("step")[col].to_numpy(float)

    layers: dict[str, LayerActivity] = {}
    prev_post = column("input", "spikes")
    for b in net.layers:
        spikes = column(b.name, "spikes")
        if spikes is None and b.spiking:
            raise UserError(str(path), b.name, "no rows for this spiking layer")
        spikes = np.zeros(net.T) if spikes is None else spikes
        in_events = column(b.name, "in_events")
        in_events = prev_post if in_events is None else in_events
        if in_events is None:
            raise UserError(str(path), "input", f"no input events: give 'input' rows or in_events for {b.name}")
        syn = column(b.name, "syn_ops")
        syn = in_events * (b.S / b.N_in) if syn is None else syn
        post = column(b.name, "post_events")
        if post is None:
            post = spikes.copy() if not b.pools else np.array([_pooled_rate(b, s / b.N_pre) * b.N_post for s in spikes])
        operands = {}
        for col in OPERAND_COLUMNS if b.spiking else ():
            got = column(b.name, col)
            if got is not None:
                operands[col] = got
        mem = column(b.name, "membrane_updates") if b.spiking else None
        layers[b.name] = LayerActivity(in_events, syn, spikes, post if b.spiking else np.zeros(net.T), operands, mem)
        prev_post = post
    return ActivityProfile("file", f"file: {where}", layers)
