"""Pool arithmetic every rule shares: the ops of a block's pools per step, forward and back."""

from __future__ import annotations

from tess_sim.simulator.network import Block


def pool_ops(block: Block) -> dict[str, float]:
    """Ops of the block's pools per step (dense): per output element, max k² − 1 compares,
    average k² − 1 adds + 1 multiply."""
    ops = {"cmp": 0.0, "add": 0.0, "mul": 0.0}
    c, h, w = block.pre_shape if len(block.pre_shape) == 3 else (block.N_pre, 1, 1)
    for pool in block.pools:
        k2 = pool.window(h, w)
        h, w = pool.out_hw(h, w)
        n_out = c * h * w
        if pool.kind == "max":
            ops["cmp"] += (k2 - 1) * n_out
        else:
            ops["add"] += (k2 - 1) * n_out
            ops["mul"] += n_out
    return ops


def pool_backward_ops(block: Block) -> dict[str, float]:
    """Ops to route a gradient back through the block's pools: max pools route (0 ops, the
    pre-pool spike map is read), average pools scale each output gradient once (1 mul each)."""
    mul = 0.0
    c, h, w = block.pre_shape if len(block.pre_shape) == 3 else (block.N_pre, 1, 1)
    for pool in block.pools:
        h, w = pool.out_hw(h, w)
        if pool.kind != "max":
            mul += c * h * w
    return {"mul": mul}


def has_maxpool(block: Block) -> bool:
    return any(p.kind == "max" for p in block.pools)
