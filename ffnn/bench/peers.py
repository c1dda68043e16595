"""The parent's side of the peer processes (``ffnn.bench.peer``): start one per library,
build a case in each, and time them in alternation.

Rounds alternate between the processes (ffnn, ffnn_compiled, torch, jax, matmul, ffnn, …),
each round a few calls timed inside the peer; a burst of load on the shared machine hits
every library alike, and each reports the median of its per-call times. Between two rounds
the parent waits until no thread of the process that just ran is runnable (``Peer.settle``):
its BLAS threads spin on for ~0.1 s after their last call, and would otherwise take a core
from the next.
"""

from __future__ import annotations

import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time

from ffnn.bench.cases import Spec


class PeerError(RuntimeError):
    """A peer process failed, answered with an error or did not answer in time; ``stderr``
    holds the end of what the process wrote there."""

    def __init__(self, message: str, stderr: str = ""):
        super().__init__(message)
        self.stderr = stderr


class Peer:
    """One library's process. ``command`` replaces ``python -m ffnn.bench.peer LIBRARY
    THREADS`` (tests use a fake peer)."""

    def __init__(self, library: str, threads: int, command: list[str] | None = None,
                 timeout: float = 600.0, greet: bool = True):
        self.library, self.timeout = library, timeout
        self.command = command or [sys.executable, "-m", "ffnn.bench.peer", library,
                                   str(threads)]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads), JAX_PLATFORMS="cpu")
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                         env=env)
        self.unavailable: str | None = None
        self.version: str | None = None
        if greet:
            self.greet()

    def greet(self) -> None:
        """Wait for the process's first line: ready (with the library's version), or the
        reason the library is unavailable (``unavailable``)."""
        hello = self._read()
        self.unavailable, self.version = hello.get("unavailable"), hello.get("version")
        if self.unavailable is None and not hello.get("ready"):
            raise PeerError(f"{self.library} peer: expected a ready line, got {hello}")

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def _read(self) -> dict:
        ready, _, _ = select.select([self._process.stdout], [], [], self.timeout)
        line = self._process.stdout.readline() if ready else None
        if line is None:
            self.close()
            raise PeerError(f"{self.library} peer: no answer in {self.timeout:g} s")
        if not line:
            self._process.wait()
            raise PeerError(f"{self.library} peer exited (status {self._process.returncode})",
                            self._stderr_tail())
        return json.loads(line)

    def request(self, message: dict) -> dict:
        """Send one request and return the answer; raises PeerError on an error answer."""
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise PeerError(f"{self.library} peer is gone: {err}", self._stderr_tail()) from err
        answer = self._read()
        if "error" in answer:
            raise PeerError(f"{self.library} peer: {answer['error']}")
        return answer

    def build(self, spec: Spec, seed: int = 0) -> None:
        self.request({"op": "build", "spec": spec.to_dict(), "seed": seed})

    def settle(self, poll_s: float = 0.005, most_s: float = 0.3) -> None:
        """Return once no thread of the process is running or waiting to run (at most
        ``most_s``).

        After its last call a BLAS or OpenMP pool keeps its threads spinning for a while
        (OpenBLAS: ~0.1 s), which would take a core from the next library's round; this
        waits that out, so that each round starts on an otherwise idle machine. A spinning
        thread stays runnable (state R) even while the machine's load keeps it off a core,
        so the test does not depend on how busy the machine is. Linux (``/proc``); elsewhere
        it returns at once."""
        end = time.monotonic() + most_s
        while _running(self._process.pid) and time.monotonic() < end:
            time.sleep(poll_s)

    def time(self, warmup: int, steps: int) -> list[float]:
        return [float(s) for s in self.request({"op": "time", "warmup": warmup,
                                                "steps": steps})["samples"]]

    def losses(self, spec: Spec, steps: int, seed: int = 0) -> list[float]:
        return [float(v) for v in self.request({"op": "losses", "spec": spec.to_dict(),
                                                "steps": steps, "seed": seed})["losses"]]

    def ask_to_quit(self) -> None:
        """Tell the process to quit, without waiting for it (``close`` waits)."""
        if self._process.poll() is None and not self._process.stdin.closed:
            try:
                self._process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self._process.stdin.close()
            except (BrokenPipeError, OSError):
                pass

    def close(self) -> None:
        self.ask_to_quit()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stderr.close()


def _running(pid: int) -> bool:
    """Whether a thread of process ``pid`` is running or runnable (False without /proc)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # the thread has just ended
        if state == "R":
            return True
    return False


def start_peers(libraries: list[str], threads: int, notes: list[str],
                commands: dict[str, list[str]] | None = None) -> dict[str, Peer]:
    """One running Peer per library; an uninstalled library is left out with a one-line
    note. The processes start together (each spends its first seconds importing its
    library) and are then greeted in order."""
    peers: dict[str, Peer] = {}
    try:
        for library in libraries:
            peers[library] = Peer(library, threads, (commands or {}).get(library), greet=False)
        for library, peer in list(peers.items()):
            peer.greet()
            if peer.unavailable is not None:
                notes.append(f"{library} skipped: {peer.unavailable}")
                peers.pop(library).close()
    except BaseException:
        close_peers(peers)
        raise
    return peers


def close_peers(peers: dict[str, Peer]) -> None:
    """Ask every process to quit, then wait for each (they end together)."""
    for peer in peers.values():
        peer.ask_to_quit()
    for peer in peers.values():
        peer.close()


def steps_per_round(first_call_s: float, round_s: float, most: int = 2000) -> int:
    """Calls per round so that a round lasts about ``round_s`` seconds (at least one)."""
    return max(1, min(most, int(round_s / max(first_call_s, 1e-7))))


def measure(peers: dict[str, Peer], spec: Spec, rounds: int, round_s: float,
            seed: int = 0) -> dict[str, dict[str, float]]:
    """Build ``spec`` in every peer and time them in alternation: per library
    ``{"median_s", "min_s", "samples"}``. One warm-up call per peer (which also compiles
    JAX's step) sets that peer's calls per round."""
    per_round: dict[str, int] = {}
    for name, peer in peers.items():
        peer.build(spec, seed)
        peer.time(warmup=1, steps=0)
        per_round[name] = steps_per_round(min(peer.time(warmup=0, steps=2)), round_s)
        peer.settle()
    samples: dict[str, list[float]] = {name: [] for name in peers}
    for _ in range(rounds):
        for name, peer in peers.items():
            samples[name] += peer.time(warmup=0, steps=per_round[name])
            peer.settle()  # its threads stop spinning before the next library runs
    return {name: {"median_s": statistics.median(values), "min_s": min(values),
                   "samples": len(values)} for name, values in samples.items()}
