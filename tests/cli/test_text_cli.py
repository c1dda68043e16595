"""``ffnn finetune`` on a CSV text column ([text] table) and ``ffnn eval`` / ``ffnn predict``
on raw text rows, with a small random-weights sentence encoder folder laid out as
sentence-transformers lays out all-MiniLM-L6-v2 (its real tokenizer.json)."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from safetensors.numpy import save_file

import ffnn
from ffnn.finetune.text import init_bert_weights
from ffnn.interop import pretrained
from ffnn.interop.sentence_encoder import SentenceEncoder

from .conftest import run_ffnn

GOOD = ["a great film", "great acting and a great story", "simply great", "great fun",
        "what a great cast", "the music is great"]
BAD = ["an awful film", "awful acting and an awful story", "simply awful", "awful and dull",
       "what an awful cast", "the music is awful"]


@pytest.fixture
def encoder_folder(tmp_path):
    source = pretrained.minilm_dir()
    folder = tmp_path / "tiny-encoder"
    (folder / "1_Pooling").mkdir(parents=True)
    config = dict(vocab_size=30522, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                  intermediate_size=16, max_position_embeddings=32, hidden_act="gelu",
                  layer_norm_eps=1e-12, pad_token_id=0, type_vocab_size=2,
                  hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    ffnn.manual_seed(0)
    model = init_bert_weights(SentenceEncoder(**config), std=0.3)
    save_file({k: np.ascontiguousarray(v) for k, v in model.state_dict().items()},
              str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(config))
    for name in ("tokenizer.json", "modules.json", "1_Pooling/config.json"):
        shutil.copy(source / name, folder / name)
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 32}))
    return folder


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "verdict"])
        writer.writerows(rows)
    return path


def _config(tmp_path, data, extra=""):
    path = tmp_path / "text.toml"
    path.write_text(f"""out = "{(tmp_path / 'run').as_posix()}"
[data]
csv = "{data.as_posix()}"
target = "verdict"
test_split = 0.0
val_split = 0.0
[train]
epochs = 30
batch_size = 8
lr = 0.02
[text]
column = "review"
max_length = 12
{extra}
""")
    return path


def test_finetune_on_a_text_column_then_eval_and_predict_raw_text(tmp_path, encoder_folder):
    rows = [(t, "fresh") for t in GOOD] + [(t, "rotten") for t in BAD]
    data = _write_csv(tmp_path / "reviews.csv", rows * 2)
    result = run_ffnn("finetune", encoder_folder, _config(tmp_path, data), "-q", timeout=300)
    assert result.returncode == 0, result.stderr
    checkpoint = tmp_path / "run" / "best.safetensors"
    assert checkpoint.is_file()

    result = run_ffnn("eval", checkpoint, data, "--log-format", "json", timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["accuracy"] >= 0.9

    texts = tmp_path / "new.txt"
    texts.write_text("a great great film\n\nan awful awful film\n", encoding="utf-8")
    result = run_ffnn("predict", checkpoint, texts, "--proba", timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "predicted_verdict,proba_fresh,proba_rotten"
    assert [line.split(",")[0] for line in lines[1:]] == ["fresh", "rotten"]

    loaded = ffnn.load(checkpoint)  # the tokenizer travels inside the checkpoint
    model = loaded.model.eval()
    ids = model.encoder.tokenize(["a great great film", "an awful awful film"])[0]
    with ffnn.no_grad():
        probs = ffnn.nn.functional.softmax(model(ffnn.tensor(ids)), dim=1).numpy()
    stdout_probs = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(stdout_probs, probs, rtol=1e-5)


def test_text_finetune_with_lora_trains_only_the_adapters_and_head(tmp_path, encoder_folder):
    rows = [(t, "fresh") for t in GOOD] + [(t, "rotten") for t in BAD]
    data = _write_csv(tmp_path / "reviews.csv", rows)
    config = _config(tmp_path, data, "[finetune]\nlora_rank = 2")
    result = run_ffnn("finetune", encoder_folder, config, "--epochs", 1, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "LoRA rank 2 on the attention and FFN projections" in result.stdout
    model = ffnn.load(tmp_path / "run" / "best.safetensors").model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)


def test_text_errors_are_one_line(tmp_path, encoder_folder):
    data = _write_csv(tmp_path / "reviews.csv", [("great", "fresh"), ("awful", "rotten")])
    config = _config(tmp_path, data).read_text().replace('column = "review"',
                                                         'column = "comment"')
    (tmp_path / "bad.toml").write_text(config)
    result = run_ffnn("finetune", encoder_folder, tmp_path / "bad.toml")
    assert result.returncode == 2
    assert result.stderr.strip() == (f"ffnn: error: {data} has no text column 'comment'. "
                                     "Columns: ['review', 'verdict']")
    result = run_ffnn("finetune", tmp_path / "nowhere", _config(tmp_path, data))
    assert result.returncode == 2 and "'minilm'" in result.stderr
    assert "Traceback" not in result.stderr


def test_text_lora_rank_is_bounded_by_the_projections_widths(tmp_path, encoder_folder):
    data = _write_csv(tmp_path / "reviews.csv", [(t, "fresh") for t in GOOD[:2]]
                      + [(t, "rotten") for t in BAD[:2]])
    config = _config(tmp_path, data, "[finetune]\nlora_rank = 9")  # hidden 8, FFN 8 → 16
    result = run_ffnn("finetune", encoder_folder, config, "--epochs", 1)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ffnn: error: finetune.lora_rank must be at most 8, the smallest width of the attention "
        "and FFN projections it adapts (8→8, 8→16, 16→8): the update B·A has rank at most "
        "min(in, out), so a larger rank only adds parameters. Received: finetune.lora_rank=9")
    assert not (tmp_path / "run").exists()
