"""One line on stderr while ffnn's kernels compile for the first time, rather than silence.

numba compiles each kernel for this CPU on its first use and caches the machine code on disk
(``numba_cache``); a later process loads it in milliseconds. On a fresh installation the first
training step therefore waits for the compiler: about 40 s for ``ffnn demo`` on two cores,
and nothing said why. ``install()`` (run with the cache's own ``install``) listens to numba's
compile events: when the compile of one of ffnn's functions has lasted ``NOTICE_AFTER``
seconds (a compile, not a load from the cache), ``NOTICE`` is written to stderr, once per
process. A user's own numba functions are not ffnn's business and say nothing.
``FFNN_COMPILE_NOTICE=0`` keeps it quiet (the test suite sets it: its checks read stderr).
"""

from __future__ import annotations

import os
import sys
import threading

NOTICE_AFTER = 3.0
"""Seconds an outermost compile of an ffnn function lasts before the notice is written."""
NOTICE = ("ffnn: compiling its kernels for this CPU, once per installation (one to two minutes "
          "per dtype on a 2-core machine; later runs load them from the disk cache)")

_state = {"depth": 0, "timer": None, "said": False, "installed": False}


def _say() -> None:
    if not _state["said"]:
        _state["said"] = True
        print(NOTICE, file=sys.stderr, flush=True)


def _ffnns(event) -> bool:
    """Whether the compile event is for a function of the ``ffnn`` package."""
    dispatcher = (event.data or {}).get("dispatcher")
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return module == "ffnn" or module.startswith("ffnn.")


def _listener():
    from numba.core import event

    class Notice(event.Listener):
        """Times each outermost compile (numba compiles callees inside their callers'
        events, under its compiler lock, one compile at a time)."""

        def on_start(self, ev) -> None:
            _state["depth"] += 1
            if _state["depth"] == 1 and not _state["said"] and _ffnns(ev):
                timer = threading.Timer(NOTICE_AFTER, _say)
                timer.daemon = True  # never holds the interpreter's exit
                _state["timer"] = timer
                timer.start()

        def on_end(self, ev) -> None:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["timer"] is not None:
                _state["timer"].cancel()
                _state["timer"] = None

    return Notice()


def install() -> None:
    """Listen to numba's compile events (once per process)."""
    if _state["installed"]:
        return
    _state["installed"] = True
    if os.environ.get("FFNN_COMPILE_NOTICE", "1") == "0":
        return
    from numba.core import event

    event.register("numba:compile", _listener())
