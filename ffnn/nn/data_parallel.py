"""``DataParallel`` as torch's behaves on a machine without GPUs: it holds ``module`` (so its
state_dict keys read ``module.<name>``) and calls it unchanged. Data parallelism over
processes is ``ffnn.distributed``'s."""

from __future__ import annotations

from ffnn.nn.module import Module


class DataParallel(Module):
    """Wraps ``module``; ``forward(*inputs, **kwargs) = module(*inputs, **kwargs)``.

    ``device_ids``, ``output_device`` and ``dim`` are accepted and change nothing: ffnn runs on
    the CPU, where torch's DataParallel has no devices to scatter to (``device_ids == []``)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
