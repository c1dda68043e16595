"""NumPy's names for four of torch's parameters, taken everywhere torch's argument parser
takes them: ``axis`` for ``dim``, ``keepdims`` for ``keepdim``, ``x``, ``a`` or ``x1`` for
``input``, ``x2`` for ``other`` (``x.sum(axis=1, keepdims=True)``, ``torch.exp(input=x)``).

``accept_numpy_names`` wraps a function whose parameters hold one name of a group and not the
others, so a keyword spelled another way of the group reaches the declared parameter. The
wrapper costs one call and, only when keywords are given, one set intersection.
"""

from __future__ import annotations

import functools
import inspect
import types

GROUPS = (("dim", "axis"), ("keepdim", "keepdims"), ("input", "x", "a", "x1"), ("other", "x2"))
"""Names one parameter goes by (torch's first, then NumPy's)."""

_GROUP_OF = {name: group for group in GROUPS for name in group}


def renames(fn) -> dict[str, str]:
    """{spelling not declared by ``fn``: the declared parameter of its group}."""
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is None:
        return {}
    declared = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    found = {}
    for name in declared:
        for other in _GROUP_OF.get(name, ()):
            if other not in declared:
                found[other] = name
    return found


def accept_numpy_names(fn, home: str | None = None, name: str | None = None):
    """``fn`` taking each name of a parameter's group (``GROUPS``) for that parameter; ``fn``
    itself when it declares none or all of them. ``home`` and ``name``: the module the
    wrapper is put in and its name there (``fn``'s by default), so a checkpoint of a module
    holding it names it where it is found (ffnn.io.objects)."""
    spellings = renames(fn)
    if not spellings:
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs:
            for spelling in spellings.keys() & kwargs.keys():
                name = spellings[spelling]
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}() got multiple values for argument "
                                    f"'{name}' (also given as '{spelling}')")
                kwargs[name] = kwargs.pop(spelling)
        return fn(*args, **kwargs)

    wrapper.numpy_names = spellings
    if home is not None:
        wrapper.__module__, wrapper.__qualname__ = home, name or fn.__name__
    return wrapper


def accept_in_namespace(namespace: dict, names) -> None:
    """Wrap the functions among ``names`` of a module's ``namespace`` in place."""
    for name in names:
        value = namespace.get(name)
        if isinstance(value, types.FunctionType):
            namespace[name] = accept_numpy_names(value, namespace["__name__"], name)


def accept_on_class(cls: type) -> None:
    """Wrap ``cls``'s public methods (its own and its bases'), set on ``cls`` itself."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        value = inspect.getattr_static(cls, name)
        if isinstance(value, types.FunctionType):
            wrapped = accept_numpy_names(value)
            if wrapped is not value:
                setattr(cls, name, wrapped)
