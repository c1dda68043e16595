"""``mode="fused"``: the whole step of a chain as one numba call.

Everything the step writes lives in buffers allocated once per batch size (pre-activations,
activations and what each activation keeps for its backward, a norm's x̂ and statistics,
two gradient buffers, the transposed weights) or in the arrays the eager step would use:
each parameter's own ``_data``, a gradient array per parameter (left in ``p.grad``), and the
optimizer's state arrays, created by the optimizer's own ``_init_state`` and written in
place, so ``optimizer.state_dict()`` is right after fused steps. Python work per call: one
pass over the parameters for the update coefficients (they follow ``param_groups``, so
schedulers work) and the optimizer's ``step`` counters.

Activations are their ``Pointwise`` formulas' generated loops, as in the eager step; large
products are NumPy's own BLAS calls (bit for bit ``numpy.matmul``), small ones numba loops.
The update of SGD, Adam and AdamW runs in the kernel: the optimizers' own generated kernels
(``SGD_KERNEL``, ``ADAM_KERNEL``) through their entry points, with the scalars of the
optimizers' own ``sgd_kernel_scalars`` / ``adam_kernel_scalars``; so does any optimizer that
declares its update's kernel (``Optimizer.fused_update``: RMSprop, Adagrad, Adadelta, Adamax,
NAdam, RAdam), asked at each step. Any other optimizer (L-BFGS) runs its own ``step()`` after
the kernel, on the gradients it left in ``p.grad``. Dropout after a layer multiplies by masks
drawn in Python before the call, as ``nn.Dropout`` draws them (same stream, same order). A
layer norm over the features or a batch norm (training mode) between a product and its
activation runs the eager ops' own compiled loops (``ffnn._kernels``); batch norm counts the
batch and folds the batch's statistics into its running ones in Python, as its module does. A
``FlatOptimizer`` over a buffer the chain's parameters are views of (``ffnn.optim.flat``, the
scikit-learn estimators) is taken as it is: each parameter's gradient and state are views of
the flat ones. The loss is any registered with a fused description (``chain.FUSED_LOSSES``),
plus an optional L2 term on the weights (``l2``, the Trainer's ``penalty.weight_l2``). The bias
gradients are summed in another order than BLAS's and small products are loops, so results
agree with the eager step to rounding.
"""

from __future__ import annotations

from operator import attrgetter, is_, is_not, itemgetter
from sys import getrefcount

import numpy as np

from ffnn import accel, nn
from ffnn.compiler.chain import FUSED_LOSSES, ChainStep
from ffnn.compiler.fused_running import RunningStatistics
from ffnn.kernels import blas_split, native
from ffnn.kernels.split_trial import SplitTrial
from ffnn.nn.chain_layers import (
    DROPOUT_MODULE,
    batch_statistics,
    dropout_options,
)
from ffnn.ops.activations import SIGMOID, LogSoftmax, PointwiseOp
from ffnn.ops.dropout import DROPOUT, keep_scale, mask_key
from ffnn.ops.norms import update_running
from ffnn.optim.adam import ADAM_KERNEL, Adam, adam_kernel_scalars
from ffnn.optim.adamw import AdamW
from ffnn.optim.flat import FlatOptimizer
from ffnn.optim.lbfgs import LBFGS
from ffnn.optim.optimizer import learning_rate, owns_fused_update, reset_gradients
from ffnn.optim.sgd import SGD, SGD_KERNEL, sgd_kernel_scalars
from ffnn.optim.step_hooks import any_hooks

_LOSS_CODES = {"mse": 0, "cross_entropy": 1, "bce_with_logits": 2, "bce": 3}
_SGD_FIRST_STEP = SGD_KERNEL.scalars.index("first_step")
_GRAD = attrgetter("_grad")
_STATE_NAMES = {True: ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), False: ("momentum_buffer",)}
"""The state entries the update kernel reads: Adam's and AdamW's (True), SGD's (False)."""
LOOPS_ONLY_MAX = 4096
"""Without NumPy's BLAS at hand, layers of at most this many weights (products by loops)."""


def _data_address(grad: np.ndarray) -> int:
    """A gradient array's address, the array not held by the table (``grads`` holds it,
    counted by ``FusedStep._grads_kept``)."""
    return grad.__array_interface__["data"][0]


def mask_fields(table: np.ndarray, at: int, keep: np.ndarray, p: float, rng,
                kernel) -> None:
    """A dropout layer's keep mask for this call, drawn by the kernel into ``keep``
    (``_fused_kernel._draw_mask``): the key and threshold ``ops.dropout.mask_key`` draws
    from ``rng`` now (as ``nn.Dropout``'s ``keep_mask`` draws them: the same mask) and the
    drawing entry point, into the fields of the layer whose table entries start at ``at``
    (``kernel``: the ``_fused_kernel`` module); at p ≥ 1 the mask all False here and no
    draw, as ``nn.Dropout``."""
    if p >= 1:
        keep.fill(False)
        table[at + kernel.MASK_ENTRY] = 0
        return
    key, threshold = mask_key(rng, p)
    table[at + kernel.MASK_KEY] = key - (1 << 64) if key >> 63 else key  # its int64 bits
    table[at + kernel.MASK_THRESHOLD] = threshold
    table[at + kernel.MASK_ENTRY] = kernel.eager_kernels.keep_mask_part.address


def activation_formula(op: type, options: dict):
    """(the op's ``Pointwise``, its scalars) or a reason it cannot be fused."""
    found = op().formula(**options) if issubclass(op, PointwiseOp) else None
    if found is None:
        return f"{op.__name__.lower()} has no compiled formula"
    if len(found[0].kept) > 2 or len(found[0].forward_kernel.arrays) > 4:
        return f"{op.__name__.lower()} keeps more arrays than the fused step holds"
    return found


def _chain(chain: ChainStep):
    """(linear modules, each one's norm module or None, each one's activation: (Pointwise,
    scalars) or None, each one's dropout module or None, whether a log-softmax over the
    classes ends the chain) or a reason: Linear layers, each followed by at most one layer
    norm over its features or batch norm, one activation with a formula, then one dropout,
    in that order; the last Linear layer may be followed by a ``LogSoftmax`` alone."""
    modules, norms, activations, dropouts = [], [], [], []
    layers = chain.layers[chain.flattens:]  # a Flatten: the caller's reshape
    log_softmax = bool(layers) and layers[-1][0] is LogSoftmax
    if log_softmax:
        if layers[-1][2].get("dim", -1) not in (1, -1) or len(layers) < 2 or \
                layers[-2][1] is None or type(layers[-2][1]) is not nn.Linear:
            return None, "a LogSoftmax is fused only right after the last Linear, over dim 1"
        layers = layers[:-1]
    for op, owner, options in layers:
        if owner is not None and type(owner) in _NORMS:
            reason = _norm_reason(owner, options, modules, norms, activations, dropouts)
            if reason is not None:
                return None, reason
            norms[-1] = owner
            continue
        if owner is not None and type(owner) is not nn.Linear:
            return None, f"{type(owner).__name__} is not fused"
        if owner is not None:
            modules.append(owner)
            norms.append(None)
            activations.append(None)
            dropouts.append(None)
            continue
        if DROPOUT_MODULE in options and modules and dropouts[-1] is None:
            dropouts[-1] = options[DROPOUT_MODULE]
            continue
        if not modules or activations[-1] is not None or dropouts[-1] is not None:
            return None, f"the chain has {op.__name__.lower()} where a Linear layer is expected"
        found = activation_formula(op, options)
        if isinstance(found, str):
            return None, found
        activations[-1] = found
    return (modules, norms, activations, dropouts, log_softmax), None


_NORMS = (nn.LayerNorm, nn.BatchNorm1d)
"""The norms the fused step computes (``_fused_kernel.LAYER_NORM``, ``BATCH_NORM``)."""


def _norm_reason(norm, options: dict, modules: list, norms: list, activations: list,
                 dropouts: list) -> str | None:
    """Why ``norm`` cannot be the norm of the last Linear layer so far, or None."""
    name = type(norm).__name__
    if not modules or norms[-1] is not None or activations[-1] is not None or \
            dropouts[-1] is not None:
        return f"the chain has a {name} where no Linear layer's norm is expected"
    features = modules[-1].out_features
    if type(norm) is nn.LayerNorm and (options.get("normalized_ndim") != 1
                                       or tuple(norm.normalized_shape) != (features,)):
        return f"a {name} over other axes than the features"
    if type(norm) is nn.BatchNorm1d and norm.num_features != features:
        return f"a {name} of another width than its Linear layer"
    return None


def _loss(loss):
    """(kernel loss code, mean, factor) of ``loss`` (``chain.FUSED_LOSSES``), or why the
    fused kernel cannot compute it."""
    describe = FUSED_LOSSES.get(type(loss))
    found = None if describe is None else describe(loss)
    if found is None:
        return f"loss {type(loss).__name__} with these options is not fused"
    kind, mean, factor = found
    return _LOSS_CODES[kind], bool(mean), float(factor)


def _loss_after(loss, chain: tuple):
    """``_loss`` of the loss after ``chain`` (``_chain``'s): after a closing log-softmax an
    NLL loss without class weights, as the cross-entropy of the logits (NLL(log softmax z)
    = CE(z), the same gradient); BCE on probabilities only after a closing sigmoid (its
    values in [0, 1], as BCELoss requires)."""
    activations, dropouts, log_softmax = chain[2:]
    if not log_softmax:
        found = _loss(loss)
        if not isinstance(found, str) and found[0] == _LOSS_CODES["bce"] and (
                activations[-1] is None or activations[-1][0] is not SIGMOID or
                dropouts[-1] is not None):
            return "BCELoss is fused only after a closing Sigmoid"
        return found
    if type(loss) is not nn.NLLLoss or loss.weight is not None or \
            loss.reduction not in ("mean", "sum"):
        return f"a closing LogSoftmax is fused with NLLLoss() only (not {type(loss).__name__})"
    return _LOSS_CODES["cross_entropy"], loss.reduction == "mean", 1.0


def _flat_owner(params: list, optimizer):
    """The one parameter of a ``FlatOptimizer`` whose array holds the arrays of ``params``
    back to back in their order and nothing else (``ffnn.optim.flat``), else None."""
    if not isinstance(optimizer, FlatOptimizer):
        return None
    groups = optimizer.param_groups
    if len(groups) != 1 or len(groups[0]["params"]) != 1:
        return None
    flat = groups[0]["params"][0]
    return flat if _laid_out(flat, params) else None


def _laid_out(flat, params: list) -> bool:
    """Whether ``flat``'s array is 1-D, C-contiguous and made of ``params``' arrays, in
    order."""
    data = flat._data
    if type(data) is not np.ndarray or data.ndim != 1 or not data.flags.c_contiguous:
        return False
    address, offset = data.__array_interface__["data"][0], 0
    for param in params:
        array = param._data
        if type(array) is not np.ndarray or array.dtype != data.dtype or \
                not array.flags.c_contiguous or \
                array.__array_interface__["data"][0] != address + offset * data.itemsize:
            return False
        offset += array.size
    return offset == data.size


class FusedStep:
    """The fused step of one chain, loss and optimizer; ``build`` checks what it takes."""

    squeezes = False
    """The model's output is the last layer's [n, 1] as [n] (``ChainStep.squeezes``): so are
    its targets and ``output``."""

    @classmethod
    def build(cls, step: ChainStep, optimizer):
        """(FusedStep, None) or (None, the reason it cannot be fused)."""
        chain, reason = _chain(step)
        loss = reason if reason is not None else _loss_after(step.loss, chain)
        if isinstance(loss, str):
            return None, loss
        modules, norms, activations, dropouts, log_softmax = chain
        params = _layout(modules, norms)[0]
        flat = _flat_owner(params, optimizer)
        if flat is not None:
            optimizer = optimizer.optimizer
        if isinstance(optimizer, LBFGS):
            return None, "LBFGS needs a closure"
        if native.gemm_addresses() is None and \
                max(m.in_features * m.out_features for m in modules) > LOOPS_ONLY_MAX:
            return None, "NumPy's BLAS is not reachable for this network's products"
        dtypes = {p._data.dtype for p in params}
        if len(dtypes) != 1 or dtypes.pop().char not in "fd":
            return None, "the parameters are not all float32 or all float64"
        groups = {}
        for group in optimizer.param_groups:
            for param in group["params"]:
                groups[id(param)] = group
        for param in params:
            if not param.requires_grad or (flat is None and id(param) not in groups):
                return None, "a parameter is frozen or not in the optimizer"
            if type(param._data) is not np.ndarray or not param._data.flags.c_contiguous:
                return None, "a parameter is not a C-contiguous NumPy array"
        owners = [flat] if flat is not None else params
        fused = cls(modules, norms, activations, dropouts, loss, optimizer, owners,
                    [groups[id(p)] for p in owners], step.flattens, log_softmax,
                    getattr(step.loss, "ignore_index", -100))
        fused.squeezes = step.squeezes
        return fused, None

    def __init__(self, modules, norms, activations, dropouts, loss, optimizer, owners,
                 owner_groups, flattens: bool = False, log_softmax: bool = False,
                 ignore_index: int = -100):
        """``owners``: the parameters the optimizer holds, each chain parameter's own or
        (``ffnn.optim.flat``) the one flat parameter their arrays are views of, with their
        groups ``owner_groups``; ``flattens``: the chain opens with a Flatten, so [n, ...]
        inputs are taken as [n, features]; ``loss``, ``log_softmax``, ``ignore_index``:
        ``_init_loss``."""
        from ffnn import _kernels
        from ffnn.compiler import _fused_kernel as kernel

        self._kernel_module = kernel
        self.kernel, self._classes_ok = kernel.step, _kernels.class_indices_ok
        self.modules, self.activations, self.dropouts = modules, activations, dropouts
        self.params, self._bias_indices, self._norm_indices = _layout(modules, norms)
        self.dtype = modules[0].weight._data.dtype
        self._init_norms(norms, kernel)
        self._dropout_plans: dict = {}  # batch rows → each dropout layer's mask and fields
        self._has_dropout = any(d is not None for d in dropouts)
        self._drop_scales = np.zeros((len(modules), 1))  # each layer's 1/(1 - p), each step
        self.weights = [m.weight for m in modules]
        self.owners, self.flat = owners, owners[0] if len(owners) < len(self.params) else None
        self.groups = owner_groups * len(self.params) if self.flat is not None else owner_groups
        self._init_loss(loss, log_softmax, ignore_index)
        self.blas = native.blas_functions(self.dtype, norms=bool(self._normed))
        self._norms = True if self._normed else None
        """The kernel's ``norms``: None compiles no norm's code."""
        self.entries = [activation_entries(found, self.dtype, kernel) for found in activations]
        self._splits = [list(activation_split_min(found)) for found in activations]
        """Per layer, the elements from which its activation's forward and backward split."""
        self._split_min = min([accel.SPLIT_MIN, *[min(pair) for pair in self._splits]])
        self._drop_entry = DROPOUT.entry(self.dtype, {"keep": np.bool_}) \
            if self._has_dropout else 0
        self.in_features = modules[0].in_features
        self.flattens = flattens
        self._init_update(optimizer, owner_groups)
        self._checked: list = []
        self._shapes = [p._data.shape for p in self.params]
        self._offsets = np.cumsum([0] + [p._data.size for p in self.params]).tolist()
        mine = {id(p) for p in owners}
        self._others = [p for g in optimizer.param_groups for p in g["params"]
                        if id(p) not in mine]
        self.transposed = tuple(  # for the loops' forward products only (BLAS reads W)
            np.empty(w._data.T.shape if self.blas[native.GEMM] == 0 or w._data.shape[1] == 1
                     or w._data.size < kernel.BLAS_MIN_PRODUCT else (0, 0), self.dtype)
            for w in self.weights)
        self._tables: dict[int, tuple] = {}
        self._probe, self._flat_grad = np.empty(0), None  # ``_grads_kept``'s probe
        self._new_grads()
        self.dims = np.array([(m.out_features, m.in_features) for m in modules], np.int64)
        self._largest = max(p._data.size for p in self.params)
        self._widest = int(self.dims[:, 0].max())
        self._context = np.zeros(blas_split.CONTEXT, np.int64)
        self._split_trial = SplitTrial()  # the step's large calls split or not, as timed
        self.classes = int(self.dims[-1, 0])
        self._outputs_like: dict[int, np.ndarray] = {}
        self.buffers: dict[int, tuple] = {}
        self.output = None
        empty = np.zeros(0, self.dtype)
        self._no_float, self._no_index = empty.reshape(0, 0), np.zeros(0, np.int64)

    def _init_norms(self, norms: list, kernel) -> None:
        """Each layer's norm module (or None), those there are with their layers, the batch
        norms among them, the table fields of their ε, each batch norm's running statistics
        as the kernel updates them."""
        self.norms = norms
        self._normed = [(layer, norm) for layer, norm in enumerate(norms) if norm is not None]
        self._batch_norms = [(layer, norm) for layer, norm in self._normed
                             if type(norm) is nn.BatchNorm1d]
        self._eps_fields = np.array([kernel.FIELDS * layer + kernel.EPS
                                     for layer, _ in self._normed], np.int64)
        self._running = [(layer, RunningStatistics(layer, norm, self.dtype, kernel))
                         for layer, norm in self._batch_norms]

    def _init_loss(self, loss: tuple, log_softmax: bool, ignore_index: int) -> None:
        """``loss``: ``_loss``'s description; ``log_softmax``: the chain ends with a
        log-softmax that the NLL loss reads (the kernel computes the cross-entropy of the
        logits, the same loss and gradient; the output is their log-softmax);
        ``ignore_index``: the class-index loss's (a batch with a target equal to it is left
        to the replay, which ignores those rows)."""
        self.loss_code, self.mean, self.factor = loss
        self.log_softmax, self.ignore_index = log_softmax, int(ignore_index)
        self._log_probabilities: dict[int, np.ndarray] = {}  # rows → the output's buffer

    def _init_update(self, optimizer, owner_groups: list) -> None:
        """How the optimizer's update runs: SGD/Adam/AdamW by their kernels with rows kept
        while the options last (``_group_rows``), an optimizer with its own ``fused_update``
        asked each step (``_generic_rows``), else its ``step()`` after the kernel."""
        self.optimizer = optimizer
        self.adam = type(optimizer) in (Adam, AdamW)
        self.in_kernel = self.adam or type(optimizer) is SGD
        self.generic = not self.in_kernel and owns_fused_update(optimizer)
        self.hyper = np.zeros((len(self.params), 12))
        self.steps = np.zeros(len(self.params), np.int64)
        self.updates = np.zeros(len(self.params) if self.in_kernel or self.generic else 0,
                                np.int64)
        self._no_updates = np.zeros(0, np.int64)
        self._owned: list | None = None
        self._entry_points: dict[tuple, int] = {}  # (kernel, *flags): its entry point
        self._rows: list = []  # what _generic_rows last wrote
        self._options = (("lr", "betas", "eps", "weight_decay", "maximize", "amsgrad",
                          "decoupled_weight_decay") if self.adam else
                         ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"))
        self._distinct = list({id(g): g for g in owner_groups}.values())
        self._owner_groups = owner_groups
        self._pick = itemgetter(*self._options)
        self._keys: list | None = None
        self._state_owner, self._fresh, self._arrays = None, True, None
        self._kept: tuple = ()  # the state dicts and arrays taken last (``_state_kept``)
        self._needs: list | None = None  # each group's AMSGrad, or momentum != 0

    def output_like(self, n: int) -> np.ndarray:
        """A read-only array of the output's shape and dtype for ``n`` rows (no memory)."""
        found = self._outputs_like.get(n)
        if found is None:
            found = self._outputs_like[n] = np.broadcast_to(
                np.zeros((), self.dtype), (n,) if self.squeezes else (n, self.classes))
        return found

    def _buffers(self, n: int) -> tuple:
        """(per layer: (z, h, kept arrays, the output after dropout, the norm's buffers or
        None), two gradient buffers) for a batch of ``n`` rows, made once. Without
        activation z is h; without dropout the output is h. A norm's buffers: the product's
        output, x̂, then float64 1/σ, batch norm's mean and variance, Σ g x̂ and Σ g."""
        found = self.buffers.get(n)
        if found is None:
            width = max(max(m.out_features, m.in_features) for m in self.modules)
            layers = []
            for module, norm, activation, drop in zip(self.modules, self.norms,
                                                      self.activations, self.dropouts):
                shape = (n, module.out_features)
                h = np.empty(shape, self.dtype)
                dropped = h if drop is None else np.empty(shape, self.dtype)
                normed = None if norm is None else _norm_buffers(norm, shape, self.dtype)
                if activation is None:
                    layers.append((h, h, (), dropped, normed))
                    continue
                kept = tuple(np.empty(shape, kind or self.dtype)
                             for kind in activation[0].kept_dtypes)
                layers.append((np.empty(shape, self.dtype), h, kept, dropped, normed))
            found = (layers, np.empty(n * width, self.dtype), np.empty(n * width, self.dtype))
            self.buffers[n] = found
        return found

    def _group_rows(self) -> None:
        """Refill ``hyper`` (float64 rows, one per parameter: the update kernel's scalars in
        its order; Adam's then lr, β₁, β₂) and ``updates`` (each parameter's update entry
        point) when a group's options changed (a scheduler's new lr), from the groups
        themselves, through the optimizers' own ``*_kernel_scalars``."""
        keys = [(self._pick(group), learning_rate(group)) for group in self._distinct]
        # (a tensor lr is filled in place by a scheduler: its value, not the object)
        if keys == self._keys:
            return
        self._keys = keys
        needs = [group["amsgrad"] if self.adam else group["momentum"] != 0
                 for group in self._distinct]
        if needs != self._needs:  # a state array to make (or to stop reading): look again
            self._needs, self._fresh = needs, True
        for i, group in enumerate(self.groups):
            if self.adam:
                beta1, beta2 = group["betas"]
                scalars = adam_kernel_scalars(
                    step=1, lr=learning_rate(group), beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"])
                kernel, flags = ADAM_KERNEL, {"has_max_exp_avg_sq": group["amsgrad"]}
                extra = [learning_rate(group), beta1, beta2]
            else:
                scalars = sgd_kernel_scalars(
                    lr=learning_rate(group), momentum=group["momentum"],
                    dampening=group["dampening"], weight_decay=group["weight_decay"],
                    maximize=group["maximize"], first_step=False)
                kernel, extra = SGD_KERNEL, []
                flags = {"nesterov": group["nesterov"],
                         "has_momentum_buffer": group["momentum"] != 0}
            row = [float(scalars[name]) for name in kernel.scalars] + extra
            self.hyper[i, :len(row)] = row
            self.updates[i] = kernel.entry(self.dtype, flags=flags)

    def _views(self, array: np.ndarray) -> list:
        """Each chain parameter's part of a flat array, shaped as the parameter."""
        bounds = zip(self._offsets, self._offsets[1:], self._shapes)
        return [array[start:stop].reshape(shape) for start, stop, shape in bounds]

    def _state(self) -> list:
        """Three state arrays per parameter (Adam's moments and AMSGrad maxima, or SGD's
        momentum buffer; the parameter itself where there is none), created as the optimizer
        creates them (for a flat owner: views of its arrays). The arrays are looked up again
        when ``optimizer.state`` was replaced (``load_state_dict``), a state is new, an
        option now asks for another array (AMSGrad, momentum turned on) or the states are not
        the objects of the last step (cleared, an array replaced: ``_state_kept``)."""
        optimizer = self.optimizer
        if optimizer.state is not self._state_owner or self._fresh or not self._state_kept():
            self._state_owner, self._fresh = optimizer.state, False
            self._dicts = []
            for owner, group in zip(self.owners, self._owner_groups):
                state = optimizer.state[owner]
                if not state:
                    state.update(optimizer._init_state(owner._data, group))
                if self.adam and group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros_like(owner._data)
                self._dicts.append(state)
            self._arrays = None
        if not self.adam and self._arrays is None:
            first = []
            for state, owner, group in zip(self._dicts, self.owners, self._owner_groups):
                first.append(group["momentum"] != 0 and "momentum_buffer" not in state)
                if first[-1]:
                    state["momentum_buffer"] = np.empty_like(owner._data)
            self.hyper[:, _SGD_FIRST_STEP] = first[0] if self.flat is not None else first
            self._fresh = self._fresh or any(first)
        if self._arrays is None:
            if self.adam:
                owned = [(d["exp_avg"], d["exp_avg_sq"], d.get("max_exp_avg_sq", d["exp_avg_sq"]))
                         for d in self._dicts]
            else:
                owned = [(d.get("momentum_buffer", o._data),) * 3
                         for d, o in zip(self._dicts, self.owners)]
            self._arrays = owned if self.flat is None else \
                list(zip(*(self._views(a) for a in owned[0])))
            self._tables.clear()
            self._keep_state()
        return self._arrays

    def _keep_state(self) -> None:
        """What ``_state_kept`` compares: (the dicts to look in, the keys, the objects found),
        for each owner its state dict in ``optimizer.state``, then each entry the update
        kernel reads in each state dict (None where absent)."""
        names, owners = _STATE_NAMES[self.adam], list(self.owners)
        holders = [self._state_owner] * len(owners) + [d for d in self._dicts for _ in names]
        keys = owners + list(names) * len(self._dicts)
        found = list(map(dict.get, holders, keys)) if isinstance(self._state_owner, dict) \
            else None
        if found is None:  # another mapping than a dict: looked at again at every step
            holders, keys, found = [{}], [None], [self]
        self._kept = holders, keys, found

    def _state_kept(self) -> bool:
        """Whether ``optimizer.state`` holds the owners' state dicts of the last step, each
        with the very arrays the update kernel read then (absent ones still absent): not
        cleared, replaced or given new arrays (one C-level ``map``)."""
        holders, keys, found = self._kept
        return all(map(is_, map(dict.get, holders, keys), found))

    def _generic_rows(self) -> list | None:
        """For an optimizer with its own ``fused_update`` (RMSprop, Adagrad, Adadelta, Adamax,
        NAdam, RAdam): each
        parameter's update entry point and scalars, asked of the optimizer at every step (a
        scheduler's lr, Adagrad's decay by step), into ``updates`` and ``hyper``, and its
        three state arrays (views of a flat owner's; the parameter itself for an absent one).
        None when the optimizer has no kernel for this step (its ``step()`` then runs)."""
        optimizer, owned, rows = self.optimizer, [], []
        states, fused_update, entries = optimizer.state, optimizer.fused_update, \
            self._entry_points
        last = (None, None, None, None)  # (kernel, flags, scalars, row): mostly shared
        for owner, group in zip(self.owners, self._owner_groups):
            state = states[owner]
            if not state:
                state.update(optimizer._init_state(owner._data, group))
            update = fused_update(state, group, state["step"] + 1)
            if update is None:
                self._owned = None
                self._tables.clear()
                return None
            kernel, flags, arrays, scalars = update
            data = owner._data
            owned.append((state, *[data if a is None else a for a in arrays],
                          *(data,) * (3 - len(arrays))))
            if kernel is not last[0] or flags is not last[1] or scalars is not last[2]:
                key = (kernel, *flags.values())
                entry = entries.get(key)
                if entry is None:
                    entry = entries[key] = kernel.entry(self.dtype, flags=flags)
                last = kernel, flags, scalars, (entry, *map(scalars.__getitem__, kernel.scalars))
            rows.append(last[3])
        if self._owned is None or any(map(is_not, _flatten(owned), _flatten(self._owned))):
            self._owned, self._dicts = owned, [found[0] for found in owned]
            self._arrays = [found[1:] for found in owned] if self.flat is None else \
                list(zip(*(self._views(a) for a in owned[0][1:])))
            self._tables.clear()
        if rows != self._rows:  # a new lr, Adagrad's decayed lr: write the rows again
            self._rows = rows
            for i in range(len(self.params)):
                entry, *row = rows[0 if self.flat is not None else i]
                self.updates[i] = entry
                self.hyper[i, :len(row)] = row
        return self._arrays

    def _parameters_ok(self) -> bool:
        """Whether the parameters' arrays are still of the kind, dtype and shape the buffers
        were made for, and a flat owner's views (checked again only when one of them, or the
        flat array, was replaced)."""
        arrays = [p._data for p in self.params]
        if self.flat is not None:
            arrays.append(self.flat._data)
        if len(arrays) == len(self._checked) and all(map(is_, arrays, self._checked)):
            return True
        self._tables.clear()
        if all(type(a) is np.ndarray and a.dtype == self.dtype and a.flags.c_contiguous
               and a.shape == shape for a, shape in zip(arrays, self._shapes)) and \
                (self.flat is None or _laid_out(self.flat, self.params)):
            self._checked = arrays
            return True
        return False

    def _flat_grads(self) -> None:
        """For a flat owner: the gradients are views of its ``.grad`` (made when missing), so
        its optimizer and ``FlatParameters.zero_grad`` see what the kernel wrote."""
        grad = self.flat._grad
        if type(grad) is not np.ndarray or grad.shape != self.flat._data.shape or \
                grad.dtype != self.dtype or not grad.flags.c_contiguous:
            grad = self.flat._grad = np.zeros_like(self.flat._data)
        if grad is not self._flat_grad:
            self._flat_grad, self.grads = grad, self._views(grad)
            self._tables.clear()

    def _grads_kept(self) -> bool:
        """Whether a gradient array the last step handed to a parameter is held anywhere
        but here and by its parameter (a program keeping ``p.grad``, as eager steps give
        each its own array): the next step then writes new ones. ``_probe``, held by this
        step as each gradient is by ``grads``, is counted the same way (the last entry), so
        that the interpreter's own references cancel out."""
        counts = list(map(getrefcount, [*self.grads, self._probe]))
        expected = (len(counts) - 1) * counts[-1] + sum(map(is_, map(_GRAD, self.params),
                                                            self.grads))
        return sum(counts) - counts[-1] > expected

    def _new_grads(self) -> None:
        """Gradient arrays of the parameters' own (none for a flat owner: views of its)."""
        self.grads = [] if self.flat is not None else [np.empty_like(p._data)
                                                       for p in self.params]
        self._tables.clear()

    def _gradient_arrays(self) -> None:
        """The arrays this step writes the gradients into (``_flat_grads``; new ones where a
        program kept the last step's: ``_grads_kept``)."""
        if self.flat is not None:
            self._flat_grads()
        elif self._grads_kept():
            self._new_grads()

    def _split_row(self, n: int) -> np.ndarray:
        """``blas_split.split_row`` for a batch of ``n`` rows: its largest call an update or
        a layer's output, its smallest split an activation's own minimum."""
        return blas_split.split_row(max(self._largest, n * self._widest), self.dtype.itemsize,
                                    self._split_min)

    def _table(self, n: int, states: list):
        """The kernel's address table for a batch of ``n`` rows (``_fused_kernel.FIELDS``
        per layer), and the arrays it points into (held with it, so none is freed while it
        is in use); None when a state array is not of the parameter's shape, dtype and
        layout."""
        found = self._tables.get(n)
        if found is not None:
            return found[:2]
        layers, grad_a, grad_b = self._buffers(n)
        params, grads = self._checked, self.grads
        for state, param in zip(states, params):
            for a in state:
                if type(a) is not np.ndarray or a.dtype != self.dtype or \
                        a.shape != param.shape or not a.flags.c_contiguous:
                    return None
        arrays, table = [], []

        def address(array: np.ndarray) -> int:
            arrays.append(array)
            return array.__array_interface__["data"][0]

        kernel = self._kernel_module
        for layer, ((z, h, kept, dropped, normed), entries) in enumerate(
                zip(layers, self.entries)):
            b = self._bias_indices[layer]
            table += [address(params[layer]), 0 if b is None else address(params[b]),
                      _data_address(grads[layer]), 0 if b is None else _data_address(grads[b])]
            table += [address(h), address(self.transposed[layer]), address(z)]
            table += [address(a) for a in kept] + [0] * (2 - len(kept))
            table += [address(entries[0])] + list(entries[1:])
            table += [address(dropped), 0, address(self._drop_scales[layer])]  # mask: each step
            table += [a.itemsize for a in kept] + [0] * (2 - len(kept))
            table += self._norm_table(layer, z, normed, address)
            table.append(self._drop_entry)
            table += [0] * (kernel.SPLIT_FORWARD - kernel.DROP_ENTRY - 1)  # running statistics
            table += self._splits[layer]
            table += [0] * (kernel.FIELDS - kernel.SPLIT_BACKWARD - 1)  # running norms: none
        table += [address(grad_a), address(grad_b)]
        table = np.array(table, np.int64)
        update_rows = [[address(p), _data_address(g), *map(address, state), p.size]
                       for p, g, state in zip(params, grads, states)]
        parameters = np.array(update_rows, np.int64).reshape(-1, kernel.PARAMETER_FIELDS)
        self._tables[n] = (table, parameters, arrays)
        return table, parameters

    def _norm_table(self, layer: int, z: np.ndarray, normed: tuple | None, address) -> list:
        """The table's fields ``NORM`` to ``EPS`` of ``layer``, whose activation reads ``z``
        (ε: 0, written each step)."""
        kernel, norm = self._kernel_module, self.norms[layer]
        if norm is None:
            return [kernel.NO_NORM, address(z)] + [0] * (kernel.EPS + 1 - kernel.GAMMA)
        params, indices = self._checked, self._norm_indices[layer]
        affine = accel.affine(*(None if i is None else params[i] for i in indices),
                              z.shape[1], self.dtype)
        return [kernel.LAYER_NORM if type(norm) is nn.LayerNorm else kernel.BATCH_NORM,
                address(normed[0]), *map(address, affine),
                *(0 if i is None else _data_address(self.grads[i]) for i in indices),
                *map(address, normed[1:]), 0]

    def _dropout_fields(self, table: np.ndarray, n: int) -> np.ndarray:
        """Each dropout layer's mask (``mask_fields``: drawn by the kernel, from a key drawn
        as ``nn.Dropout`` draws its own) and scale for this step in ``table``; the layer's
        output reads h itself in eval mode or at p = 0. Returns the last layer's output
        array."""
        layers = self.buffers[n][0]
        output = layers[-1][1]
        for layer, drop, field, keep, addresses in self._dropout_rows(n):
            options = dropout_options(drop)
            if options is None:  # the identity: the next layer reads h, no mask
                table[field], table[field + 1] = addresses[0], 0
                continue
            p = options["p"]
            kernel = self._kernel_module
            mask_fields(table, field - kernel.DROPPED, keep, p, options["rng"], kernel)
            self._drop_scales[layer] = 0.0 if p >= 1 else keep_scale(p, self.dtype)
            table[field], table[field + 1] = addresses[1], addresses[2]
            if layer == len(layers) - 1:
                output = layers[layer][3]
        return output

    def _dropout_rows(self, n: int) -> list:
        """Per dropout layer, for batches of ``n`` rows (made once): (layer, module, its
        ``DROPPED`` field in the table, its keep mask's array, the addresses of h, of the
        dropout output and of the mask)."""
        found = self._dropout_plans.get(n)
        if found is None:
            found = self._dropout_plans[n] = []
            for layer, drop in enumerate(self.dropouts):
                if drop is not None:
                    _, h, _, dropped, _ = self.buffers[n][0][layer]
                    keep = np.empty(h.shape, bool)
                    found.append((layer, drop, self._kernel_module.FIELDS * layer +
                                  self._kernel_module.DROPPED, keep,
                                  [a.__array_interface__["data"][0] for a in (h, dropped, keep)]))
        return found

    def _norm_fields(self, table: np.ndarray, n: int) -> list:
        """Each norm's ε in ``table`` as its module has it now, each batch norm's running
        statistics for this step (``RunningStatistics``); (layer, the op's options) of each
        batch norm whose running statistics the kernel cannot update (the caller does)."""
        table[self._eps_fields] = np.array([norm.eps for _, norm in self._normed],
                                           np.float64).view(np.int64)
        return [(layer, options) for layer, running in self._running
                if (options := running.prepare(table, n)) is not None]

    def _targets(self, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | str:
        """(float targets, class indices) as the kernel reads them (one of the two empty),
        or why ``y`` cannot be the loss's target for ``n`` rows."""
        if self.loss_code == 1:
            if y.dtype.kind not in "iu" or y.shape != (n,):
                return "the target is not a vector of class indices, one per row"
            y_index = np.ascontiguousarray(y, np.int64)
            if not self._classes_ok(y_index, self.classes, self.ignore_index):
                return "a target is ignore_index or not a class"
            return self._no_float, y_index
        if y.dtype.kind != "f" or y.shape != ((n,) if self.squeezes else (n, self.classes)):
            return "the target is not a floating-point array shaped like the output"
        return np.ascontiguousarray(y, self.dtype).reshape(n, self.classes), self._no_index

    def _count_step(self, in_kernel: bool) -> None:
        """Each optimizer state's ``step`` one more when the kernel updates (Adam's counts
        also into ``steps``, which the kernel reads)."""
        if self.generic and in_kernel:
            taken = self.optimizer._fused_step_taken  # the count, and NAdam's Πμ
            for state, group in zip(self._dicts, self._owner_groups):
                taken(state, group)
        if self.adam and in_kernel:
            steps = self.steps
            for i, state in enumerate(self._dicts):
                state["step"] += 1
                steps[i] = state["step"]
            if self.flat is not None:
                steps.fill(steps[0])

    def __call__(self, x, y, optimizer, l2: float = 0.0) -> tuple[float | None, str | None]:
        """(loss, None), or (None, a reason) when these arrays cannot take the fused path.
        ``l2`` = λ adds ``½ λ Σ‖W‖²`` over the Linear weights to the loss (λ W to their
        gradients)."""
        if self.flattens and x.ndim > 2:  # [n, ...] → [n, features], as the chain's Flatten
            x = x.reshape(x.shape[0], -1)
        if x.dtype != self.dtype or x.ndim != 2:
            return None, f"the input is {x.dtype} of {x.ndim} dims, not 2-D {self.dtype}"
        if not self._parameters_ok():
            return None, "a parameter's array changed shape, dtype or layout"
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        n = x.shape[0]
        if self._batch_norms and (n <= 1 or not all(
                batch_statistics(norm) for _, norm in self._batch_norms)):
            return None, "a BatchNorm1d is in eval mode or gets one row"
        targets = self._targets(y, n)
        if isinstance(targets, str):
            return None, targets
        y_float, y_index = targets
        hooked = any_hooks(optimizer)  # its step() runs them: the update is left to it
        in_kernel, updates = self.in_kernel and not hooked, self.updates
        self._gradient_arrays()
        if in_kernel:
            self._group_rows()
            states = self._state()
        elif self.generic and not hooked and (states := self._generic_rows()) is not None:
            in_kernel = True
        else:
            states = [(p,) * 3 for p in self._checked[:len(self.params)]]
            updates = self._no_updates
        tables = self._table(n, states)
        if tables is None:
            return None, "an optimizer state array is not shaped and typed as its parameter"
        table, parameters = tables
        self._count_step(in_kernel)
        if self._others:
            reset_gradients(self._others)
        running = self._norm_fields(table, n) if self._normed else []
        output = self._dropout_fields(table, n) if self._has_dropout else \
            self.buffers[n][0][-1][1]
        loss = self.kernel(x, y_float, y_index, table, self.dims, self.blas, self.loss_code,
                           self.mean, self.factor, float(l2), parameters, updates, self.hyper,
                           self.steps, self.adam,
                           self._split_trial.choose(self._split_row(n)),
                           self._context, self._norms)
        for param, grad in zip(self.params, self.grads):
            param._grad = grad
        for layer, options in running:
            normed = self.buffers[n][0][layer][4]
            update_running(options["running_mean"], options["running_var"], normed[3],
                           normed[4], options["momentum"], n)
        if not in_kernel:
            optimizer.step()
        self.output = output if not self.log_softmax else accel.log_softmax_rows(
            output, self._log_probabilities_for(n))
        if self.squeezes:
            self.output = self.output.reshape(n)
        return float(loss), None

    def _log_probabilities_for(self, n: int) -> np.ndarray:
        """The output buffer [n, classes] of a chain ending in a log-softmax, made once."""
        found = self._log_probabilities.get(n)
        if found is None:
            found = self._log_probabilities[n] = np.empty((n, self.classes), self.dtype)
        return found


def _layout(modules: list, norms: list) -> tuple[list, list, list]:
    """(the chain's parameters in the kernel's order: the Linear weights, their biases, then
    each norm's γ and β, those there are; per layer the position of its bias in that list,
    None without; per layer with a norm the positions of its γ and β, None for one it does
    not have)."""
    params = [m.weight for m in modules]
    biases = []
    for module in modules:
        biases.append(None if module.bias is None else len(params))
        params += [module.bias] if module.bias is not None else []
    affine = []
    for norm in norms:
        found = None if norm is None else []
        for param in () if norm is None else (norm.weight, norm.bias):
            found.append(None if param is None else len(params))
            params += [param] if param is not None else []
        affine.append(found)
    return params, biases, affine


def _norm_buffers(norm, shape: tuple, dtype: np.dtype) -> tuple:
    """A norm's buffers for ``shape`` = (n, out): the product's output and x̂ [n, out], and
    float64 1/σ ([n] for layer norm, [out] for batch norm), mean and variance (batch norm:
    [out]; layer norm: none), Σ g x̂ and Σ g [out]."""
    n, out = shape
    statistics = (out, out, out) if type(norm) is nn.BatchNorm1d else (n, 0, 0)
    return (np.empty(shape, dtype), np.empty(shape, dtype),
            *(np.empty(size) for size in statistics), np.empty(out), np.empty(out))


def _flatten(owned: list) -> list:
    return [a for found in owned for a in found]


def activation_split_min(activation) -> tuple[int, int]:
    """The elements from which a layer's activation's forward and backward split
    (``Pointwise.compiled_split_min``; ``SPLIT_MIN`` without activation)."""
    if activation is None:
        return accel.SPLIT_MIN, accel.SPLIT_MIN
    return activation[0].compiled_split_min


def activation_entries(activation, dtype: np.dtype, kernel) -> tuple:
    """(scalars as a float64 array, forward entry, backward entry, the number of arrays the
    backward reads besides dL/dh, the table field of each, padded to four) of one layer's
    activation (``kernel.FIELDS``, ``kernel`` the ``_fused_kernel`` module); no activation:
    zeros."""
    if activation is None:
        return (np.zeros(1), 0, 0, 0, 0, 0, 0, 0)
    pointwise, scalars = activation
    values = np.array([float(scalars[name]) for name in pointwise.scalars] or [0.0])
    forward, backward = pointwise.entries(dtype)
    fields = {**kernel.SAVED_FIELDS,
              **{name: kernel.KEPT + i for i, name in enumerate(pointwise.kept)}}
    saved = [fields[name] for name in pointwise.saved]
    return (values, forward, backward, len(saved), *saved, *[0] * (4 - len(saved)))
