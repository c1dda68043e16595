"""A stand-in peer for the protocol tests: ``python fake_peer.py MODE SECONDS_PER_ROW``.

It answers as ``ffnn.bench.peer`` does, without any library: a timed call "takes"
SECONDS_PER_ROW × the case's rows, and the losses of k steps are 1, 2, …, k (+ SECONDS_PER_ROW
when MODE is ``off``), so a test knows every number the parent should report. MODE
``unavailable`` reports the library missing; ``crash`` exits on build; ``hang`` never
answers a build; ``error`` answers every request with an error; ``spin`` keeps a core busy
for SECONDS_PER_ROW seconds after answering a timed call, as a BLAS pool's threads do.
"""

import json
import sys
import time

mode, per_row = sys.argv[1], float(sys.argv[2])


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if mode == "unavailable":
    send({"unavailable": "fakelib not installed (No module named 'fakelib')"})
    raise SystemExit(0)
send({"ready": True, "library": "fake", "version": "0.0"})
rows = None
for line in sys.stdin:
    request = json.loads(line)
    op = request["op"]
    if op == "quit":
        break
    if mode == "error":
        send({"error": "ValueError: fake failure"})
    elif op == "build" and mode == "crash":
        print("fake peer: crashed while building", file=sys.stderr)
        raise SystemExit(3)
    elif op == "build" and mode == "hang":
        sys.stdin.read()
    elif op == "build":
        rows = request["spec"]["rows"]
        send({"ok": True})
    elif op == "time" and mode == "spin":
        send({"samples": [1e-3] * int(request["steps"])})
        end = time.perf_counter() + per_row
        while time.perf_counter() < end:
            pass
    elif op == "time":
        send({"samples": [per_row * rows] * int(request["steps"])})
    elif op == "losses":
        extra = per_row if mode == "off" else 0.0
        send({"losses": [i + 1.0 + extra for i in range(int(request["steps"]))]})
