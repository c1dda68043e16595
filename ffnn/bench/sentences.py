"""Varied sentences for checking and timing a sentence encoder: short and long (past the
model's maximum length), punctuation, numbers, non-English scripts, emoji, empty text."""

from __future__ import annotations

import numpy as np

BASE = [
    "A man is playing a guitar.",
    "The new movie is awesome!",
    "The cat sits outside",
    "I love pasta.",
    "Do you like pizza?",
    "ok",
    "",
    "   leading and trailing spaces   ",
    "What's the weather like in São Paulo today, 21 °C or 30 °C?",
    "E-mail me at someone@example.com -- or call +1 (555) 010-9999!!!",
    "Le chat est assis sur le tapis, et il regarde la pluie tomber.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "¿Dónde está la biblioteca? ¡No lo sé!",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "我喜欢在周末读书和看电影。",
    "今日はとても良い天気ですね。",
    "هذا نص باللغة العربية للاختبار.",
    "Emoji time 😀🎉👍🏽 — does it still work? 🤔",
    "#hashtags @mentions and URLs: https://example.org/path?q=1&r=2",
    "Numbers 3.14159, 2.71828, 1e-12 and 42%.",
    "CamelCaseWordsAndsnake_case_words mixed-with-hyphens",
    "!!!???...;;;:::",
    "The stock market fell sharply on Tuesday as investors worried about inflation.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
]

_WORDS = ("the a of and to in is was it that film movie story actor plot great bad boring "
          "funny slow beautiful music scene character ending director script performance "
          "cast dialogue visual effects audience laugh cry watch again never always").split()


def varied_sentences(count: int = 300, seed: int = 0, long_every: int = 10) -> list[str]:
    """``count`` sentences: the fixed examples above, then random ones of 1-60 words, every
    ``long_every``-th made long enough (600+ words) to be truncated at 256 tokens."""
    rng = np.random.default_rng(seed)
    out = list(BASE[:count])
    while len(out) < count:
        size = 600 + int(rng.integers(0, 200)) if len(out) % long_every == 0 else int(
            rng.integers(1, 61))
        words = [str(w) for w in rng.choice(_WORDS, size)]
        text = " ".join(words).capitalize()
        out.append(text + str(rng.choice([".", "!", "?", "...", ""])))
    return out
