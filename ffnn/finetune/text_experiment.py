"""The text fine-tuning comparison behind ``examples/finetune_text.py``: on one held-out split
of a real labelled text set, LoRA on pretrained all-MiniLM-L6-v2 vs the same architecture
trained from scratch (same epochs, batch size and optimizer) vs TF-IDF + logistic regression;
accuracy, trainable parameters and minutes, per seed."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

import ffnn
from ffnn import optim
from ffnn.finetune.freeze import count_parameters
from ffnn.finetune.text import TextClassifier, apply_text_lora, init_bert_weights, tokenize_texts
from ffnn.train import Trainer


@dataclass
class Budget:
    """What every neural run gets: rows, epochs, batch size, tokens per text, learning rate."""

    train_size: int = 1000
    test_size: int = 1000
    epochs: int = 2
    batch_size: int = 16
    max_length: int = 64
    lr: float = 1e-3
    lora_rank: int = 8
    lora_alpha: float = 16.0


@dataclass
class Outcome:
    method: str
    seed: int
    accuracy: float
    trainable: int
    minutes: float


def _fit(model, X, y, budget: Budget, seed: int) -> Trainer:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optim.AdamW(params, lr=budget.lr, weight_decay=0.01)
    trainer = Trainer(model, "cross_entropy", optimizer, seed=seed)
    trainer.fit((X, y), epochs=budget.epochs, batch_size=budget.batch_size, verbose=0)
    return trainer


def _accuracy(trainer: Trainer, X, y) -> float:
    return float(np.mean(trainer.predict(X, batch_size=64) == y))


def run_lora(encoder_factory, data, budget: Budget, seed: int, keep: bool = False):
    """LoRA (attention + FFN projections) and a new head on the pretrained encoder."""
    X_train, y_train, X_test, y_test = data
    ffnn.manual_seed(seed)
    start = time.perf_counter()
    model = TextClassifier(encoder_factory(), int(y_train.max()) + 1)
    apply_text_lora(model, r=budget.lora_rank, alpha=budget.lora_alpha)
    trainer = _fit(model, X_train, y_train, budget, seed)
    accuracy = _accuracy(trainer, X_test, y_test)
    trainable = count_parameters(model, trainable_only=True)
    outcome = Outcome("LoRA on pretrained MiniLM", seed, accuracy, trainable,
                      (time.perf_counter() - start) / 60)
    return (outcome, model) if keep else outcome


def run_scratch(encoder_factory, data, budget: Budget, seed: int) -> Outcome:
    """The same architecture, BERT-initialised at random, every parameter trained."""
    X_train, y_train, X_test, y_test = data
    ffnn.manual_seed(seed)
    start = time.perf_counter()
    model = TextClassifier(encoder_factory(), int(y_train.max()) + 1)
    init_bert_weights(model)
    trainer = _fit(model, X_train, y_train, budget, seed)
    accuracy = _accuracy(trainer, X_test, y_test)
    trainable = count_parameters(model, trainable_only=True)
    return Outcome("same architecture from scratch", seed, accuracy, trainable,
                   (time.perf_counter() - start) / 60)


def run_tfidf(texts_train, y_train, texts_test, y_test, seed: int) -> Outcome:
    """TF-IDF of word 1-2-grams + logistic regression (scikit-learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    features = vectorizer.fit_transform(texts_train)
    classifier = LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
    classifier.fit(features, y_train)
    accuracy = float(np.mean(classifier.predict(vectorizer.transform(texts_test)) == y_test))
    trainable = int(classifier.coef_.size + classifier.intercept_.size)
    return Outcome("TF-IDF + logistic regression", seed, accuracy, trainable,
                   (time.perf_counter() - start) / 60)


def median_table(outcomes: list[Outcome]) -> list[dict]:
    """One row per method: median accuracy and minutes over the seeds, all accuracies."""
    rows = []
    for method in dict.fromkeys(o.method for o in outcomes):
        mine = [o for o in outcomes if o.method == method]
        rows.append({"method": method, "seeds": [o.seed for o in mine],
                     "median_accuracy": float(np.median([o.accuracy for o in mine])),
                     "accuracies": [o.accuracy for o in mine],
                     "trainable": mine[0].trainable,
                     "median_minutes": float(np.median([o.minutes for o in mine]))})
    return rows


def prepare(budget: Budget, split_seed: int = 0):
    """(texts and labels of the split, tokenised arrays, encoder factory)."""
    from ffnn.data.text import load_rotten_tomatoes, train_test_texts
    from ffnn.interop.pretrained import load_sentence_encoder

    texts, labels = load_rotten_tomatoes()
    split = train_test_texts(texts, labels, budget.train_size, budget.test_size, split_seed)
    encoder = load_sentence_encoder()
    state = {k: np.array(v) for k, v in encoder.state_dict().items()}

    def factory():
        fresh = load_sentence_encoder()
        fresh.load_state_dict(state)
        return fresh

    width = budget.max_length
    X_train = _pad(tokenize_texts(encoder, split[0], width), width)
    X_test = _pad(tokenize_texts(encoder, split[2], width), width)
    return split, (X_train, split[1], X_test, split[3]), factory


def _pad(ids: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((ids.shape[0], width), dtype=np.int64)
    out[:, :ids.shape[1]] = ids
    return out


__all__ = ["Budget", "Outcome", "run_lora", "run_scratch", "run_tfidf", "median_table",
           "prepare", "asdict"]
