"""The quality-praise keyword rule measured on labelled reviews (QS 7.1.1 reviews, QS 5.2).

``pytest -s`` prints the accuracy table; the assertion message carries it too.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import pytest

from pinzhi.services import praise, praise_rule
from pinzhi.services.rules import DEFAULT_RULES
from tests.services.review_cases import CASES, Case

RULE = next(r["content"] for r in DEFAULT_RULES if r["key"] == "product.grading")
# The praise words of the first rule version: every key the matcher learnt later is absent.
FIRST_VERSION = {
    "praise_keywords": ["质量好", "质量很好", "质量不错", "做工好", "做工精细", "正品"],
    "negations": [
        "不",
        "没",
        "没有",
        "无",
        "非",
        "并非",
        "未",
        "并不",
        "不太",
        "一点也不",
        "一点都不",
    ],
    "degree_adverbs": [
        *["很", "非常", "挺", "特别", "真", "真的", "十分", "相当", "超", "超级", "比较"],
        *["蛮", "太", "极", "极其", "那么", "这么"],
    ],
    "filler_words": ["是", "也", "都", "还", "一点", "并", "就", "算", "的", "像"],
}

MIN_ACCURACY = 0.95
MIN_PRECISION = 0.95


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.miss)] if case.miss else []
    return pytest.param(case, id=f"{case.kind}:{case.text[:24] or '(empty)'}", marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_each_labelled_review(case: Case) -> None:
    """QS 7.1.1: the rule reads each review as a human reader does (see review_cases)."""
    findings = [(f.keyword, f.clause, f.reason) for f in praise.explain(case.text, RULE)]
    assert praise.praises_quality_by_rule(case.text, RULE) is case.praises, findings


def _scores(cases: list[Case]) -> dict[str, float | int]:
    tp = fp = fn = tn = 0
    for case in cases:
        said = praise.praises_quality_by_rule(case.text, RULE)
        tp += said and case.praises
        fp += said and not case.praises
        fn += not said and case.praises
        tn += not said and not case.praises
    return {
        "n": len(cases),
        "accuracy": (tp + tn) / len(cases),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
    }


def _table(rows: dict[str, dict[str, float | int]]) -> str:
    lines = [f"{'kind':<16}{'n':>5}{'accuracy':>10}{'precision':>11}{'recall':>8}"]
    for name, s in rows.items():
        lines.append(
            f"{name:<16}{s['n']:>5}{s['accuracy']:>10.1%}{s['precision']:>11.1%}{s['recall']:>8.1%}"
        )
    return "\n".join(lines)


def test_accuracy_precision_and_recall_on_the_labelled_set() -> None:
    """QS 7.1.1: the praise-keyword rate is only as good as the praise it finds. On the
    labelled set (at least 150 reviews, half of them hard) the rule is right on 95% and
    95% of what it counts as praise is praise, overall; every kind is shown."""
    by_kind: dict[str, list[Case]] = defaultdict(list)
    for case in CASES:
        by_kind[case.kind].append(case)
    rows = {"all": _scores(CASES), "hard": _scores([c for c in CASES if c.hard])}
    rows |= {kind: _scores(cases) for kind, cases in sorted(by_kind.items())}
    table = _table(rows)
    print(f"\nQuality-praise rule on {len(CASES)} labelled reviews:\n{table}")
    overall = rows["all"]
    assert len(CASES) >= 150 and 2 * rows["hard"]["n"] >= len(CASES), table
    assert overall["accuracy"] >= MIN_ACCURACY, table
    assert overall["precision"] >= MIN_PRECISION, table


def test_the_labelled_set_has_no_duplicates_and_both_labels_in_every_hard_kind() -> None:
    """A hard kind with one label only could be passed by always saying that label."""
    texts = [c.text for c in CASES]
    assert len(texts) == len(set(texts))
    for kind in {c.kind for c in CASES if c.hard}:
        assert {c.praises for c in CASES if c.kind == kind} == {True, False}, kind


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("质量一点也不好", "negated"),
        ("质量好吗？", "question"),
        ("质量能好吗？", "rhetorical"),
        ("要是质量好就好了", "hypothetical"),
        ("质量好才怪", "refuted"),
        ("号称质量好其实很差", "reported"),
        ("本以为质量好结果一般", "disbelieved"),
        ("听说质量好，果然名不虚传", "praise"),
    ],
)
def test_each_occurrence_says_why_it_does_not_count(text: str, reason: str) -> None:
    assert [f.reason for f in praise.explain(text, RULE)] == [reason]


# --- Rule data (QS 5.2) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("质量很好", True),
        ("质量非常好", True),
        ("质量不好", False),
        ("质量一点也不好", False),
        ("质量并不好", False),
        ("质量没有很好", False),
        ("做工精细，正品", True),
    ],
)
def test_the_pure_function_takes_its_words_as_arguments(text: str, expected: bool) -> None:
    """QS 5.2: keywords, negations and adverbs are rule data, passed in (no fillers here)."""
    keywords = ["质量好", "做工精细", "正品"]
    negations = ["不", "没", "没有", "并不", "一点也不"]
    adverbs = ["很", "非常"]
    assert praise.praises_quality(text, keywords, negations, adverbs) is expected


def test_keywords_come_from_the_rule() -> None:
    """QS 5.2: a word that is not a keyword of the rule is not praise, and a new keyword
    counts as soon as the rule names it."""
    assert praise.praises_quality("味道好", ["质量好"], ["不"], ["很"]) is False
    assert praise.praises_quality("味道很好", ["味道好"], ["不"], ["很"]) is True
    assert praise.praises_quality("味道不好", ["味道好"], ["不"], ["很"]) is False


@pytest.mark.parametrize(
    ("text", "first_version", "now"),
    [
        ("质量很好", True, True),
        ("质量不好", False, False),
        ("质量好吗？", True, False),
        ("号称质量好其实很差", True, False),
        ("要是质量好就好了", True, False),
        ("质量杠杠的", False, True),
        ("用料上乘", False, True),
        ("質量很好", False, True),
    ],
)
def test_a_rule_version_without_the_newer_keys_keeps_its_behaviour(
    text: str, first_version: bool, now: bool
) -> None:
    """QS 5.2: decisions follow the rule version in force; a version published before the
    matcher learnt about questions, hearsay or slang is read as it was then."""
    assert praise.praises_quality_by_rule(text, FIRST_VERSION) is first_version
    assert praise.praises_quality_by_rule(text, RULE) is now


def test_every_word_list_is_rule_data() -> None:
    """QS 5.2: a marker the rule does not list has no effect, and one it lists does."""
    text = "朋友说质量好，我觉得一般"
    assert praise.praises_quality_by_rule(text, RULE) is True
    amended = copy.deepcopy(RULE)
    amended["hearsay_markers"].append("朋友说")
    assert praise.praises_quality_by_rule(text, amended) is False
    without_questions = {k: v for k, v in RULE.items() if k != "question_markers"}
    assert praise.praises_quality_by_rule("质量好吗？", without_questions) is True


def test_word_lists_of_the_wrong_shape_are_read_as_empty() -> None:
    """A rule version whose newer lists are malformed still judges reviews by the rest,
    rather than failing every review written under it."""
    malformed = copy.deepcopy(RULE) | {
        "traditional_characters": ["質量", "质"],
        "comparison_markers": ["比"],
        "spelling_variants": ["灰常"],
        "question_markers": "吗",
        "hearsay_markers": [None, 3, "号称"],
    }
    assert praise.praises_quality_by_rule("质量很好", malformed) is True
    assert praise.praises_quality_by_rule("質量很好", malformed) is False
    assert praise.praises_quality_by_rule("质量比上次好", malformed) is False
    assert praise.praises_quality_by_rule("质量好吗", malformed) is True
    assert praise.praises_quality_by_rule("号称质量好", malformed) is False


def test_the_compiled_rule_is_memoised_per_content() -> None:
    """A review reuses the compiled rule; a new rule version compiles anew."""
    assert praise_rule.compile_rule(RULE) is praise_rule.compile_rule(copy.deepcopy(RULE))
    amended = copy.deepcopy(RULE)
    amended["degree_adverbs"].append("巨巨")
    assert praise_rule.compile_rule(amended) is not praise_rule.compile_rule(RULE)


@pytest.mark.parametrize(
    "text",
    ["好" * 1000, "不" * 1000, "质量" * 500, "质量没有比上次比别家好" * 90, "说是" * 500],
)
def test_long_repetitive_text_is_judged(text: str) -> None:
    """The longest reviews allowed are judged without blowing up (timing is in bench/):
    gaps are bounded in words and characters, and no pattern backtracks."""
    assert praise.praises_quality_by_rule(text[:1000], RULE) is False
