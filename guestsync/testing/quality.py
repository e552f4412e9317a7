"""Pairwise clustering quality against a ground truth, overall and per category of person:
what the identity benchmarks and tests report. Counted without listing pairs."""

from __future__ import annotations

from typing import Any


def pairwise_quality(predicted: dict[str, str], truth: dict[str, int]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering (record -> cluster) against the
    truth (record -> person), counted without listing pairs."""
    from collections import Counter

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter((predicted[r], truth[r]) for r in truth))
    pred = pairs(Counter(predicted[r] for r in truth))
    true = pairs(Counter(truth.values()))
    precision = both / pred if pred else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true}


def quality_by_category(
    predicted: dict[str, str], truth: dict[str, int], categories: dict[int, str]
) -> dict[str, dict[str, float]]:
    """`pairwise_quality` per category of person, and "all". A category's precision counts
    every predicted pair with a record of that category in it: a namesake absorbed into
    another guest costs the category of either."""
    from collections import Counter

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    out = {"all": pairwise_quality(predicted, truth)}
    all_pred = pairs(Counter(predicted[r] for r in truth))
    for cat in sorted(set(categories.values())):
        inside = [r for r in truth if categories[truth[r]] == cat]
        outside = [r for r in truth if categories[truth[r]] != cat]
        both = pairs(Counter((predicted[r], truth[r]) for r in inside))
        pred = all_pred - pairs(Counter(predicted[r] for r in outside))
        true = pairs(Counter(truth[r] for r in inside))
        precision = both / pred if pred else 1.0
        recall = both / true if true else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[cat] = {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true}
    return out
