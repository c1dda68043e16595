"""The peer processes' protocol (``ffnn.bench.peer`` / ``ffnn.bench.peers``), with fake peers
whose every answer is known, so that the numbers the bench reports can be checked exactly;
and the real peer's request handling in this process (no timing is asserted)."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from ffnn.bench import check, main, peer, peers, report, run, steps
from ffnn.bench.cases import SPECS
from ffnn.bench.sweep import shape_specs

FAKE = str(Path(__file__).with_name("fake_peer.py"))


def fake(mode: str = "ok", per_row: float = 0.0) -> list[str]:
    return [sys.executable, FAKE, mode, repr(per_row)]


FAKES = {"ffnn": fake("ok", 4e-3), "ffnn_compiled": fake("ok", 1.5e-3),
         "torch": fake("ok", 8e-3), "jax": fake("ok", 2e-3), "matmul": fake("ok", 1e-3)}


def test_rows_follow_from_the_peers_samples_and_each_gets_its_spec():
    notes: list[str] = []
    rows = steps.step_rows(["tiny", "shapes"], 2, "small", True, True, notes, FAKES)
    assert [r["variant"] for r in rows] == [None] + list(shape_specs())
    for row in rows:  # a fake call takes per_row × the case's rows: each peer got the spec
        n = row["spec"]["rows"]
        assert row["ffnn_ms"] == pytest.approx(4 * n) and row["torch_ms"] == pytest.approx(8 * n)
        assert row["jax_ms"] == pytest.approx(2 * n) and row["matmul_ms"] == pytest.approx(n)
        assert row["ratio"] == pytest.approx(0.5) and row["jax_ratio"] == pytest.approx(2.0)
        assert row["step_over_matmul"] == pytest.approx(4.0)
        assert row["compiled_ms"] == pytest.approx(1.5 * n)
        assert row["compiled_jax_ratio"] == pytest.approx(0.75)
        assert row["compiled_over_matmul"] == pytest.approx(1.5)
        assert row["samples"] == {"ffnn": 2, "ffnn_compiled": 2, "torch": 2, "jax": 2,
                                  "matmul": 2}
    assert notes == []


def test_table_marks_each_ratio_against_its_target(capsys):
    result = run.run_benchmarks(["tiny", "shapes"], 2, "small", memory=False,
                                peer_commands=FAKES)
    tiny, first = result["cases"][0], result["cases"][1]
    assert tiny["targets"] == {"ffnn/torch <= 0.5": True, "ffnn/JAX <= 1.0": False,
                               "compiled/JAX <= 1.0": True}
    assert first["targets"] == {"ffnn/torch <= 0.8": True, "ffnn/JAX <= 1.0": False,
                                "compiled/JAX <= 1.0": True, "step/matmul <= 1.25": False,
                                "compiled step/matmul <= 1.25": False}
    text = report.to_markdown(result)
    assert ("| case | ffnn ms | torch ms | JAX ms | ffnn/torch | ffnn/JAX | compiled ms | "
            "compiled/JAX | step/matmuls | compiled/matmuls |" in text)
    assert ("| shapes 2-3-1 tanh b1 sgd | 4.000 | 8.000 | 2.000 | 0.50 ✓ | 2.00 ✗ | 1.500 | "
            "0.75 ✓ | 4.00 ✗ | 1.50 ✗ |") in text
    assert ("| tiny | 4.000 | 8.000 | 2.000 | 0.50 ✓ | 2.00 ✗ | 1.500 | 0.75 ✓ | 4.00 | 1.50 |"
            in text)  # step/matmul: no target for tiny
    assert "shapes: ffnn/torch <= 0.8: met on 5 of 5" in text
    assert "shapes: ffnn/JAX <= 1.0: met on 0 of 5 (NOT met: 784-512-256-10 relu b128 adam," \
        in text


def test_a_library_that_is_not_installed_is_skipped_with_one_note():
    commands = dict(FAKES, jax=fake("unavailable"))
    result = run.run_benchmarks(["tiny"], 2, "small", memory=False, peer_commands=commands)
    (row,) = result["cases"]
    assert row["jax_ms"] is None and row["jax_ratio"] is None
    assert row["targets"]["ffnn/JAX <= 1.0"] is None
    assert [n for n in result["notes"] if "jax" in n] == [
        "jax skipped: fakelib not installed (No module named 'fakelib')"]
    assert result["machine"]["jax"] is None


def test_a_peer_that_dies_is_reported_with_its_stderr():
    with pytest.raises(peers.PeerError, match=r"^ffnn peer exited \(status 3\)$") as info:
        steps.step_rows(["tiny"], 2, "small", False, False, [], dict(FAKES, ffnn=fake("crash")))
    assert "fake peer: crashed while building" in info.value.stderr


def test_the_command_reports_a_failed_peer_without_a_traceback(capsys, monkeypatch):
    real = steps.step_rows
    monkeypatch.setattr(steps, "step_rows", lambda *args: real(
        *args[:6], dict(FAKES, torch=fake("crash")), *args[7:]))
    assert main(["--case", "tiny", "--no-memory", "--repeat", "small"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "ffnn bench: error: torch peer exited (status 3)"
    assert "fake peer: crashed while building" in err and "Traceback" not in err


def test_a_peer_error_answer_is_raised_with_the_message():
    with pytest.raises(peers.PeerError, match="torch peer: ValueError: fake failure"):
        steps.step_rows(["tiny"], 2, "small", True, False, [], dict(FAKES, torch=fake("error")))


def test_a_silent_peer_times_out():
    p = peers.Peer("jax", 1, fake("hang"), timeout=1.0)
    with pytest.raises(peers.PeerError, match="jax peer: no answer in 1 s"):
        p.build(SPECS["tiny"])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="settle reads /proc")
def test_settle_waits_until_the_process_stops_spinning():
    """A peer whose threads spin on after its round (here 0.3 s) is waited for; an idle
    one is not."""
    spinning, idle = peers.Peer("fake", 1, fake("spin", 0.3)), peers.Peer("fake", 1, fake())
    try:
        for peer, least, most in ((spinning, 0.2, 1.0), (idle, 0.0, 0.15)):
            peer.build(SPECS["tiny"])
            peer.time(warmup=0, steps=1)
            start = time.perf_counter()
            peer.settle(most_s=1.0)
            assert least <= time.perf_counter() - start <= most
    finally:
        spinning.close()
        idle.close()


def test_steps_per_round_fills_the_round_with_at_least_one_call():
    assert peers.steps_per_round(0.01, 0.1) == 10
    assert peers.steps_per_round(0.5, 0.1) == 1
    assert peers.steps_per_round(1e-9, 1.0, most=50) == 50


def test_check_reports_the_largest_loss_difference_per_peer():
    notes: list[str] = []
    commands = {"ffnn": fake("ok"), "ffnn_compiled": fake("ok"), "torch": fake("off", 1e-3),
                "jax": fake("ok")}
    rows = check.loss_differences(["tiny", "sweep"], 1, True, True, notes, 3, commands)
    assert len(rows) == 1 + 45  # the dropout entry of the sweep is left out
    assert notes == ["dropout cases not compared: each library draws its own masks"]
    for row in rows:
        assert row["ffnn"] == [1.0, 2.0, 3.0]
        assert row["torch"] == pytest.approx(1e-3 / 1.0) and row["jax"] == 0.0
        assert row["ffnn_compiled"] == 0.0
    text, agree = check.to_text(rows, notes)
    assert not agree
    assert "max over 46 cases: torch 1.0e-03 (DIFFERS" in text
    assert "max over 46 cases: jax 0.0e+00 (agrees" in text


def _serve(library: str, requests: list[dict]) -> list[dict]:
    """``peer.serve`` in this process; the CPUs and BLAS threads it pins (as a peer process
    of its own does) are put back after, so later tests run with the machine's."""
    out = io.StringIO()
    stdin = io.StringIO("".join(json.dumps(r) + "\n" for r in requests))
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    with threadpool_limits(limits=None):  # restores the limits found on exit
        try:
            assert peer.serve(library, 1, stdin, out) == 0
        finally:
            if cpus is not None:
                os.sched_setaffinity(0, cpus)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_real_peer_answers_each_request_on_one_line():
    spec = SPECS["tiny"].to_dict()
    answers = _serve("ffnn", [{"op": "time", "warmup": 0, "steps": 1},
                              {"op": "build", "spec": spec, "seed": 0},
                              {"op": "time", "warmup": 1, "steps": 3},
                              {"op": "losses", "spec": dict(spec, dtype="float64"), "steps": 2},
                              {"op": "fly"}, {"op": "quit"},
                              {"op": "time", "warmup": 0, "steps": 1}])
    assert answers[0]["ready"] is True and answers[0]["library"] == "ffnn"
    assert answers[1] == {"error": "time before build"}
    assert answers[2] == {"ok": True}
    assert len(answers[3]["samples"]) == 3 and min(answers[3]["samples"]) > 0
    assert len(answers[4]["losses"]) == 2 and answers[4]["losses"][1] < answers[4]["losses"][0]
    assert answers[5] == {"error": "unknown op 'fly'; expected build, time, losses or quit"}
    assert len(answers) == 6  # nothing after quit


def test_the_real_peer_reports_a_bad_spec_and_keeps_serving():
    bad = dict(SPECS["tiny"].to_dict(), activation="swish")
    answers = _serve("matmul", [{"op": "build", "spec": bad},
                                {"op": "build", "spec": SPECS["mlp"].to_dict()}])
    assert answers[1]["error"].startswith("ValueError: activation must be one of")
    assert "Received: activation='swish'" in answers[1]["error"]
    assert answers[2] == {"ok": True}


def test_real_ffnn_and_torch_peers_compute_the_same_losses(capsys):
    assert main(["--check", "--case", "tiny", "--case", "shapes", "--no-jax",
                 "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "max over 6 cases: torch" in out and "(agrees; tolerance 1e-09)" in out
    assert "max over 6 cases: ffnn_compiled" in out and "DIFFERS" not in out


def test_check_refuses_cases_without_a_training_step(capsys):
    assert main(["--check", "--case", "predict"]) == 2
    err = capsys.readouterr().err
    assert "--check compares training cases" in err and "Received: --case predict" in err
