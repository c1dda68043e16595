"""The optimizers' state-dict hooks run as torch's: order, ``prepend``, results replacing
the state dict, ``remove()``; in the base class's methods (a subclass's own code around its
parent's call runs outside them)."""

from __future__ import annotations

import torch

import ffnn


def _hooked_run(lib, optimizer_class=None) -> tuple[list, list]:
    layer = lib.nn.Linear(2, 2)
    opt = (optimizer_class or lib.optim.Adam)(layer.parameters(), lr=0.01)
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: log.append("post") or {**sd, "extra": 1})
    opt.register_state_dict_post_hook(lambda o, sd: log.append("first"), prepend=True)
    opt.register_load_state_dict_pre_hook(
        lambda o, sd: log.append(f"load pre {sorted(sd)}") or
        {k: v for k, v in sd.items() if k != "extra"})
    handle = opt.register_load_state_dict_post_hook(lambda o: log.append("load post"))
    saved = opt.state_dict()
    opt.load_state_dict(saved)
    handle.remove()
    opt.load_state_dict(saved)
    return sorted(saved), log


def test_state_dict_hooks_run_as_torchs():
    assert _hooked_run(ffnn) == _hooked_run(torch)


def test_a_subclass_around_its_parents_state_dict_runs_outside_the_hooks_as_torch():
    class Tracked(ffnn.optim.SGD):
        def state_dict(self):
            return {**super().state_dict(), "tracked": True}

        def load_state_dict(self, state_dict):
            super().load_state_dict({k: v for k, v in state_dict.items() if k != "tracked"})

    class TorchTracked(torch.optim.SGD):
        def state_dict(self):
            return {**super().state_dict(), "tracked": True}

        def load_state_dict(self, state_dict):
            super().load_state_dict({k: v for k, v in state_dict.items() if k != "tracked"})

    assert _hooked_run(ffnn, Tracked) == _hooked_run(torch, TorchTracked)
