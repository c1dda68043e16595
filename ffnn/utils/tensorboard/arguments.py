"""The checks of ``SummaryWriter``'s arguments, where the user's values arrive: ffnn
Tensors (also ones that require grad), NumPy arrays and scalars, Python numbers; each error
names the method, the argument, what was expected and what was received."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ffnn import backend
from ffnn.tensor import Tensor


class NotAScalarError(ValueError, AssertionError):
    """``add_scalar`` got more than one value. (torch raises AssertionError here; it is also
    a ValueError so either ``except`` catches it.)"""


def scalar_dict(method: str, argument: str, mapping, key_kind: str) -> dict:
    """``mapping`` checked as a dict of str → scalar (``_scalar``), as floats."""
    if not isinstance(mapping, dict):
        raise TypeError(f"{method}: {argument} must be a dict of {key_kind} → value. "
                        f"Received: {argument}={received(mapping)}")
    return {check_str(method, f"a key of {argument}", key):
            as_scalar(method, f"{argument}[{key!r}]", value) for key, value in mapping.items()}


def received(value) -> str:
    if isinstance(value, (Tensor, np.ndarray)):
        return f"a {type(value).__name__} of shape {tuple(value.shape)}"
    return f"{value!r} ({type(value).__name__})"


def check_str(method: str, argument: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{method}: {argument} must be a str. Received: {argument}="
                        f"{received(value)}")
    return value


def check_step(method: str, global_step, argument: str = "global_step") -> int | None:
    """None or the step as an int (a float is cut to an int, as torch does)."""
    if global_step is None:
        return None
    if isinstance(global_step, Tensor) and global_step.numel() == 1:
        global_step = global_step.item()
    if isinstance(global_step, numbers.Real) and math.isfinite(global_step):
        return int(global_step)
    raise TypeError(f"{method}: {argument} must be an integer or None. Received: "
                    f"{argument}={received(global_step)}")


def check_walltime(method: str, walltime) -> float | None:
    if walltime is None:
        return None
    if isinstance(walltime, numbers.Real) and not isinstance(walltime, bool):
        return float(walltime)
    raise TypeError(f"{method}: walltime must be seconds since the epoch (a number) or None. "
                    f"Received: walltime={received(walltime)}")


def as_array(method: str, argument: str, value) -> np.ndarray:
    """``value`` (an ffnn Tensor, an array, a number) as a NumPy array of real numbers."""
    if isinstance(value, Tensor):
        array = backend.to_numpy(value._data)
    elif isinstance(value, (np.ndarray, numbers.Number, np.generic, list, tuple)) or \
            hasattr(value, "__array__"):
        array = np.asarray(value)
    else:
        raise TypeError(f"{method}: {argument} must be a Tensor, an array or a number. "
                        f"Received: {argument}={received(value)}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{method}: {argument} must hold real numbers. Received: {argument} "
                        f"of dtype {array.dtype}")
    return array


def as_scalar(method: str, argument: str, value) -> float:
    """One value (a number, or a tensor or array of one element) as a Python float."""
    array = as_array(method, argument, value)
    if array.size != 1:
        raise NotAScalarError(f"{method}: {argument} must hold one element. Received: "
                              f"{argument}={received(value)}")
    return float(array.reshape(()))


def image_array(method: str, img_tensor, dataformats) -> np.ndarray:
    """``img_tensor`` as an array whose dimensions ``dataformats`` names, checked."""
    array = as_array(method, "img_tensor", img_tensor)
    check_str(method, "dataformats", dataformats)
    layout = dataformats.upper()
    if len(set(layout)) != len(layout) or not set(layout) <= set("NCHW") or \
            not {"H", "W"} <= set(layout) or len(layout) != array.ndim:
        raise ValueError(f"{method}: dataformats must name each dimension of img_tensor once "
                         f"with letters of NCHW (H and W among them). Received: dataformats="
                         f"{dataformats!r} for img_tensor of shape {array.shape}")
    channels = array.shape[layout.index("C")] if "C" in layout else 1
    if channels not in (1, 3, 4):
        raise ValueError(f"{method}: img_tensor must have 1, 3 or 4 channels. Received: "
                         f"{channels} channels (shape {array.shape}, dataformats "
                         f"{dataformats!r})")
    return array


def hparams(hparam_dict, domains) -> tuple[dict, dict]:
    """``add_hparams``'s hyperparameters (bool, int, float, str or None; a Tensor or NumPy
    number as a number) and their domains, checked."""
    method = "add_hparams"
    if not isinstance(hparam_dict, dict):
        raise TypeError(f"{method}: hparam_dict must be a dict of name → value. Received: "
                        f"hparam_dict={received(hparam_dict)}")
    values = {}
    for name, value in hparam_dict.items():
        check_str(method, "a key of hparam_dict", name)
        if isinstance(value, (Tensor, np.ndarray)):
            value = as_scalar(method, f"hparam_dict[{name!r}]", value)
        elif isinstance(value, np.generic):
            value = value.item()
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise TypeError(f"{method}: hparam_dict[{name!r}] must be a bool, int, float, str, "
                            f"a Tensor of one element or None. Received: {received(value)}")
        values[name] = value
    domains = {} if domains is None else domains
    if not isinstance(domains, dict):
        raise TypeError(f"{method}: hparam_domain_discrete must be a dict of name → list of "
                        f"values or None. Received: {received(domains)}")
    for name, choices in domains.items():
        kind = type(values.get(name))
        if name not in values or not isinstance(choices, list) or \
                not all(isinstance(choice, kind) for choice in choices):
            raise TypeError(f"{method}: hparam_domain_discrete[{name!r}] must be a list of "
                            f"values of the type of hparam_dict[{name!r}] ({kind.__name__}). "
                            f"Received: {choices!r}")
    return values, domains


def check_embedding(mat, metadata, metadata_header, labels) -> None:
    """``add_embedding``'s metadata and label images agree with ``mat``'s points."""
    points = mat.shape[0]
    if metadata is not None and len(metadata) != points:
        raise ValueError(f"add_embedding: metadata must have one entry per row of mat "
                         f"({points}). Received: {len(metadata)} entries")
    if metadata_header and any(len(row) != len(metadata_header) for row in metadata or []):
        raise ValueError(f"add_embedding: each metadata row must have one value per column of "
                         f"metadata_header ({len(metadata_header)})")
    if labels is not None and (labels.ndim != 4 or labels.shape[0] != points):
        raise ValueError(f"add_embedding: label_img must be [N, C, H, W] with N = {points} "
                         f"(the rows of mat). Received: label_img of shape {labels.shape}")
