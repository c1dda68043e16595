"""``ffnn bench --check``: do the peers compute the same step as ffnn?

Every training case is run for a few steps in float64 from the same weights in each peer
process; the losses of ffnn's compiled step (``ffnn.compile``, as the bench times it), PyTorch
and JAX are compared with ffnn's eager step. Equal networks, losses and
optimizer updates agree to rounding (~1e-15); a wrong activation, loss or hyper-parameter
shows up as a difference many orders of magnitude larger. Cases with dropout are left out:
each library draws its own masks.
"""

from __future__ import annotations

from dataclasses import replace

from ffnn.bench import peers, steps

TOLERANCE = 1e-9
"""Largest |loss − ffnn's loss| / max(1, |ffnn's loss|) counted as agreement (float64)."""


def loss_differences(names: list[str], threads: int, use_torch: bool, use_jax: bool,
                     notes: list[str], num_steps: int = 3,
                     commands: dict[str, list[str]] | None = None,
                     shapes: dict | None = None) -> list[dict]:
    """Per case: ``{"case", "variant", "ffnn": [losses], LIBRARY: max relative difference}``
    (``shapes``: the entries of the case ``shape``, as ``steps.items`` takes them)."""
    every = steps.items(names, shapes)
    todo = [item for item in every if item[2].dropout == 0.0]
    if len(todo) < len(every):
        notes.append("dropout cases not compared: each library draws its own masks")
    wanted = ["ffnn", "ffnn_compiled"] + (["torch"] if use_torch else []) \
        + (["jax"] if use_jax else [])
    running = peers.start_peers(wanted, threads, notes, commands)
    rows = []
    try:
        for case, variant, spec in todo:
            spec64 = replace(spec, dtype="float64")
            reference = running["ffnn"].losses(spec64, num_steps)
            row = {"case": case, "variant": variant, "ffnn": reference}
            for name, peer in running.items():
                if name != "ffnn":
                    losses = peer.losses(spec64, num_steps)
                    row[name] = max(abs(a - b) / max(1.0, abs(b))
                                    for a, b in zip(losses, reference))
            rows.append(row)
    finally:
        peers.close_peers(running)
    return rows


def to_text(rows: list[dict], notes: list[str], num_steps: int = 3) -> tuple[str, bool]:
    """(report, every peer agrees with ffnn within ``TOLERANCE``)."""
    others = [k for k in (rows[0] if rows else {}) if k not in ("case", "variant", "ffnn")]
    lines = [f"losses of {num_steps} float64 steps, max |loss - ffnn's| / max(1, |ffnn's|):"]
    agree = True
    for row in rows:
        where = f"{row['case']} {row['variant']}" if row["variant"] else row["case"]
        cells = "  ".join(f"{name} {row[name]:.1e}" for name in others)
        lines.append(f"  {where}: {cells}")
        agree = agree and all(row[name] <= TOLERANCE for name in others)
    for name in others:
        worst = max(row[name] for row in rows)
        lines.append(f"max over {len(rows)} cases: {name} {worst:.1e} "
                     f"({'agrees' if worst <= TOLERANCE else 'DIFFERS'}; tolerance "
                     f"{TOLERANCE:g})")
    lines += ["note: " + n for n in notes]
    return "\n".join(lines), agree
