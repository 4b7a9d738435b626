"""Calibrate the matcher's thresholds on a tune split; report a held-out split separately.

Every question is asked once through the service as shipped (so declines of other
agencies' business and of unknown years count), and its ranking is kept. Then:

- the figures of the shipped thresholds are printed for each split: top-1 entry right
  (whatever the thresholds), answered and right, answered but wrong, clarify, fallback,
  and out-of-scope declined;
- with --grid, a grid of thresholds is searched on the TUNE split only, for the most
  answered-and-right questions with answered-but-wrong at most --max-wrong and
  out-of-scope declined at least --oos-floor. The held-out split is never searched on.

Prints figures; changes nothing.

    .venv/bin/python benchmarks/calibrate_faq.py \
        --tune tests/data/faq_tune.jsonl --tune-oos tests/data/faq_oos_tune.jsonl \
        --holdout tests/data/faq_holdout.jsonl --holdout-oos tests/data/faq_oos_holdout.jsonl \
        --grid
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from faq.answer import FaqService
from faq.evaluate import Case, is_correct, read_cases
from faq.kb import load_kb
from faq.match import Thresholds


@dataclass(frozen=True)
class Asked:
    """One question as the shipped service answered it, and what any thresholds need."""

    status: str
    correct: bool
    declined_before_matching: bool
    score: float
    second: float
    top_ok: bool
    smalltalk: bool


@dataclass(frozen=True)
class Figures:
    total: int
    top1: float
    answered_right: float
    answered_wrong: float
    clarify: float
    fallback: float
    oos_total: int
    oos_declined: float
    oos_matcher: float = float("nan")
    """Out-of-scope declined by the thresholds alone, as if no elsewhere pattern caught any:
    how much the decision holds up for other agencies' questions no pattern foresaw."""

    def row(self, name: str) -> str:
        return (
            f"{name:<22} {self.total:>4} {self.top1:>7.1%} {self.answered_right:>9.1%} "
            f"{self.answered_wrong:>9.1%} {self.clarify:>8.1%} {self.fallback:>8.1%} "
            f"{self.oos_total:>4} {self.oos_declined:>9.1%} {self.oos_matcher:>8.1%}"
        )


HEADER = (
    f"{'split':<22} {'n':>4} {'top-1':>7} {'ans+right':>9} {'ans+wrong':>9} "
    f"{'clarify':>8} {'fallback':>8} {'oos':>4} {'declined':>9} {'matcher':>8}"
)


def ask_all(service: FaqService, cases: Iterable[Case]) -> list[Asked]:
    matcher = service.matcher
    rendered = service.kb.rendered
    out = []
    for case in cases:
        answer = service.ask(case.question)
        ranked = matcher.rank(case.question)
        top_ok = bool(ranked) and all(
            any(p.lower() in rendered[ranked[0][0].id].lower() for p in g) for g in case.expect
        )
        out.append(
            Asked(
                status=answer.status,
                correct=is_correct(answer, case),
                declined_before_matching=service.decline(case.question) is not None,
                score=ranked[0][1] if ranked else 0.0,
                second=ranked[1][1] if len(ranked) > 1 else 0.0,
                top_ok=top_ok,
                smalltalk=matcher.smalltalk(case.question) is not None,
            )
        )
    return out


def shipped(asked: Sequence[Asked], oos: Sequence[Asked], t: Thresholds) -> Figures:
    n = max(len(asked), 1)
    return Figures(
        total=len(asked),
        top1=sum(a.top_ok for a in asked) / n,
        answered_right=sum(a.status == "answer" and a.correct for a in asked) / n,
        answered_wrong=sum(a.status == "answer" and not a.correct for a in asked) / n,
        clarify=sum(a.status == "clarify" for a in asked) / n,
        fallback=sum(a.status == "fallback" for a in asked) / n,
        oos_total=len(oos),
        oos_declined=sum(a.status != "answer" for a in oos) / max(len(oos), 1),
        oos_matcher=under(asked, oos, t).oos_matcher,
    )


def status_under(a: Asked, t: Thresholds, patterns: bool = True) -> str:
    """What the service would say to this question under thresholds ``t`` (and without the
    declines before matching, unless ``patterns``)."""
    if patterns and a.declined_before_matching:
        return "fallback"
    if a.score < t.clarify and a.smalltalk:
        return "smalltalk"
    return t.decide(a.score, a.second)


def under(asked: Sequence[Asked], oos: Sequence[Asked], t: Thresholds) -> Figures:
    n = max(len(asked), 1)
    statuses = [status_under(a, t) for a in asked]
    answered = [s in {"answer", "smalltalk"} for s in statuses]
    right = [s == "answer" and a.top_ok for s, a in zip(statuses, asked, strict=True)]
    return Figures(
        total=len(asked),
        top1=sum(a.top_ok for a in asked) / n,
        answered_right=sum(right) / n,
        answered_wrong=sum(x and not r for x, r in zip(answered, right, strict=True)) / n,
        clarify=statuses.count("clarify") / n,
        fallback=statuses.count("fallback") / n,
        oos_total=len(oos),
        oos_declined=sum(status_under(a, t) not in {"answer", "smalltalk"} for a in oos)
        / max(len(oos), 1),
        oos_matcher=sum(status_under(a, t, False) not in {"answer", "smalltalk"} for a in oos)
        / max(len(oos), 1),
    )


def search(
    asked: Sequence[Asked],
    oos: Sequence[Asked],
    max_wrong: float,
    oos_floor: float,
    matcher_floor: float,
) -> list[tuple[Figures, Thresholds]]:
    base = Thresholds()
    grid = itertools.product(
        [x / 100 for x in range(30, 62, 2)],  # answer
        [x / 100 for x in range(0, 12, 1)],  # margin
        [x / 100 for x in range(46, 80, 2)],  # sure
        [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],  # margin_slope
    )
    found = []
    for a, m, sure, slope in grid:
        if sure < a:
            continue
        t = dataclasses.replace(base, answer=a, margin=m, sure=sure, margin_slope=slope)
        f = under(asked, oos, t)
        if (
            f.answered_wrong <= max_wrong
            and f.oos_declined >= oos_floor
            and f.oos_matcher >= matcher_floor
        ):
            found.append((f, t))
    found.sort(key=lambda ft: (-ft[0].answered_right, ft[0].answered_wrong, -ft[1].sure))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", nargs="+", required=True)
    parser.add_argument("--tune-oos", nargs="*", default=[])
    parser.add_argument("--holdout", nargs="*", default=[])
    parser.add_argument("--holdout-oos", nargs="*", default=[])
    parser.add_argument("--grid", action="store_true", help="search thresholds on the tune split")
    parser.add_argument("--max-wrong", type=float, default=0.03)
    parser.add_argument("--oos-floor", type=float, default=0.95)
    parser.add_argument(
        "--matcher-floor",
        type=float,
        default=0.0,
        help="out-of-scope declined by the thresholds alone (no elsewhere patterns)",
    )
    args = parser.parse_args()
    service = FaqService(load_kb())

    def load(files: list[str]) -> list[Case]:
        return [c for f in files for c in read_cases(Path(f))]

    tune = ask_all(service, load(args.tune))
    tune_oos = ask_all(service, load(args.tune_oos))
    print(f"shipped thresholds: {service.matcher.thresholds}")
    print(HEADER)
    t = service.matcher.thresholds
    print(shipped(tune, tune_oos, t).row("tune"))
    if args.holdout or args.holdout_oos:
        holdout = ask_all(service, load(args.holdout))
        holdout_oos = ask_all(service, load(args.holdout_oos))
        print(shipped(holdout, holdout_oos, t).row("held-out"))
    if args.grid:
        print(
            f"\ngrid on the tune split only (answered-but-wrong <= {args.max_wrong:.0%}, "
            f"oos declined >= {args.oos_floor:.0%}, by the thresholds alone "
            f">= {args.matcher_floor:.0%}):"
        )
        print(HEADER + "  answer margin sure slope")
        found = search(tune, tune_oos, args.max_wrong, args.oos_floor, args.matcher_floor)
        for f, t in found[:15]:
            print(
                f.row("tune")
                + f"  {t.answer:.2f}  {t.margin:.2f}  {t.sure:.2f}  {t.margin_slope:.1f}"
            )


if __name__ == "__main__":
    main()
