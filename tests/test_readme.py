"""The README stays true: its test command is CI's, its Python examples run, and the explain
output it shows is what `ffnn explain` prints today."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second():
    demo, tests = (block.strip() for block in _bash_blocks()[:2])
    assert demo.endswith("ffnn demo") and "pip install" in demo
    assert "pytest" in tests and "pip install" in tests
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line and not line.startswith("#")]
    assert tests in ci_lines


@pytest.mark.parametrize("index", range(len(re.findall(r"```python\n", README))))
def test_python_examples_run(index, tmp_path):
    code = re.findall(r"```python\n(.*?)```", README, re.S)[index]
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_explain_output_shown_is_current():
    from ffnn import explain

    shown = README.split("```text\n", 1)[1].split("```", 1)[0]
    assert shown.strip() == explain.render(explain.compute()).strip()


def test_config_reference_lists_every_key():
    """The README's config table has a row for every key `ffnn train` / `finetune` accept."""
    from ffnn.cli.config import Config, FinetuneConfig, all_keys

    rows = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", README, flags=re.MULTILINE))
    missing = sorted((set(all_keys(Config)) | set(all_keys(FinetuneConfig))) - rows)
    assert not missing, f"config keys without a README row: {missing}"
