"""The statistical suggestion source: spaCy NER on `blank("id")`, trained in-process.

CPU only, fixed seed, no download. It learns from the paragraphs of the gold articles that
hold gold spans (a paragraph without any is mostly "O" tokens and costs training time
for little), at most MAX_TRAIN_PARAGRAPHS of them, so training stays short whatever the
gold's size. Spans that do not fall on spaCy's token boundaries cannot be learnt and are
left out (counted in `skipped`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

from toolkit.labels.suggest import MODEL, GoldArticle, Span

SEED = 0
EPOCHS = 12
DROPOUT = 0.2
BATCH = 8
MAX_TRAIN_PARAGRAPHS = 400


def _paragraph_examples(articles: Iterable[GoldArticle]) -> list[tuple[str, list[Span]]]:
    out = []
    for art in articles:
        for p_start, p_end in art.paragraphs or ((0, len(art.text)),):
            spans = [
                Span(s.start - p_start, s.end - p_start, s.type, s.score, s.source)
                for s in art.spans
                if p_start <= s.start and s.end <= p_end
            ]
            if spans:
                out.append((art.text[p_start:p_end], spans))
    return out


class NerModel:
    """spaCy NER trained on the gold spans of `articles` (deterministic for a seed)."""

    def __init__(
        self,
        articles: Iterable[GoldArticle],
        *,
        seed: int = SEED,
        epochs: int = EPOCHS,
        scores: dict[str, float] | None = None,
    ) -> None:
        import spacy
        from spacy.training import Example
        from spacy.util import fix_random_seed, minibatch

        fix_random_seed(seed)
        self.nlp = spacy.blank("id")
        ner: Any = self.nlp.add_pipe("ner")
        self.scores = scores or {}  # type -> score to give its predictions
        self.skipped = 0
        examples = []
        pairs = _paragraph_examples(articles)
        random.Random(seed).shuffle(pairs)
        for text, spans in pairs[:MAX_TRAIN_PARAGRAPHS]:
            doc = self.nlp.make_doc(text)
            ents = []
            for s in spans:
                if doc.char_span(s.start, s.end, label=s.type) is None:
                    self.skipped += 1
                    continue
                ents.append((s.start, s.end, s.type))
            for _, _, label in ents:
                ner.add_label(label)
            examples.append(Example.from_dict(doc, {"entities": ents}))
        self.trained = bool(examples)
        if not self.trained:
            return
        optimizer = self.nlp.initialize(lambda: examples)
        order = random.Random(seed)
        for _ in range(epochs):
            order.shuffle(examples)
            for batch in minibatch(examples, size=BATCH):
                self.nlp.update(batch, drop=DROPOUT, sgd=optimizer)

    def predict(self, texts: Sequence[str], types: Iterable[str] | None = None) -> list[list[Span]]:
        """Spans per text, only of `types` (all when None)."""
        if not self.trained:
            return [[] for _ in texts]
        wanted = set(types) if types is not None else None
        out = []
        for doc in self.nlp.pipe(texts, batch_size=32):
            out.append(
                [
                    Span(e.start_char, e.end_char, e.label_, self.scores.get(e.label_, 0.5), MODEL)
                    for e in doc.ents
                    if wanted is None or e.label_ in wanted
                ]
            )
        return out
