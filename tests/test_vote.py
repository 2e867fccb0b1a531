"""One majority vote (issue 20): self-consistency (``solve/strategies.py``) and the verifier's vote@N /
top-k vote (``solve/rerank.py``) share ``rerank.majority_vote`` and its one tie rule."""
from __future__ import annotations

from mathwright.solve import rerank, strategies


def test_strategies_vote_is_the_rerank_vote() -> None:
    assert strategies.majority_vote is rerank.majority_vote
    assert not hasattr(strategies, "majority")


def test_tie_rule() -> None:
    vote = rerank.majority_vote
    assert vote(["18", None, "17", "18"]) == "18"
    assert vote(["3", "4", "4", "3"]) == "3"                         # no scores: the answer seen first
    assert vote([None, "4", "3", "3", "4"]) == "4"
    assert vote(["3", "4", "4", "3"], [0.1, 0.2, 0.3, 0.1]) == "4"   # scores: higher total (0.5 vs 0.2)
    assert vote(["3", "4"], [0.5, 0.5]) == "3"                       # equal totals: first seen
    assert vote(["", "", "5"]) == ""                                 # an empty answer is readable
    assert vote([None, None]) is None and vote([]) is None
    # top-k: the vote over the k best-ranked samples, in rank order
    assert rerank.top_k_vote(["a", "b", "b", "a"], [0.9, 0.8, 0.7, 0.1], 2) == "a"
