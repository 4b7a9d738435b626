"""Calibrate the matcher's thresholds on question sets in the ../shared/eval format.

Ranks every question once, then tries a grid of (answer, margin, sure, clarify) and prints
the best settings by in-scope accuracy among those leaving at least --oos-floor of the
out-of-scope questions unanswered. Prints figures; changes nothing.

    .venv/bin/python benchmarks/calibrate_faq.py ../shared/eval/faq_dev.jsonl \
        tests/data/faq_paraphrases.jsonl --oos ../shared/eval/faq_dev_oos.jsonl \
        tests/data/faq_oos.jsonl
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from faq.answer import FaqService
from faq.evaluate import read_cases
from faq.kb import load_kb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--oos", nargs="*", default=[])
    parser.add_argument("--oos-floor", type=float, default=0.92)
    args = parser.parse_args()
    service = FaqService(load_kb())
    matcher = service.matcher
    rendered = service.kb.rendered

    cases = [c for f in args.files for c in read_cases(Path(f))]
    oos = [c for f in args.oos for c in read_cases(Path(f))]
    ranked = []
    for case in cases:
        r = matcher.rank(case.question)
        top_ok = bool(r) and all(
            any(p.lower() in rendered[r[0][0].id].lower() for p in g) for g in case.expect
        )
        ranked.append((r[0][1] if r else 0.0, r[1][1] if len(r) > 1 else 0.0, top_ok))
    oos_ranked = []
    for case in oos:
        r = matcher.rank(case.question)
        oos_ranked.append((r[0][1] if r else 0.0, r[1][1] if len(r) > 1 else 0.0))
    right = sum(ok for *_, ok in ranked) / len(cases)
    print(f"in scope: {len(cases)}, top-1 entry right (any threshold): {right:.1%}")
    print(f"out of scope: {len(oos)}")

    def answers(s1: float, s2: float, a: float, m: float, sure: float) -> bool:
        return s1 >= sure or (s1 >= a and s1 - s2 >= m)

    results = []
    grid = itertools.product(
        [x / 100 for x in range(36, 62, 2)],
        [x / 100 for x in range(0, 10, 1)],
        [x / 100 for x in range(50, 80, 2)],
    )
    for a, m, sure in grid:
        if sure < a:
            continue
        acc = sum(ok and answers(s1, s2, a, m, sure) for s1, s2, ok in ranked) / len(cases)
        kept = sum(not answers(s1, s2, a, m, sure) for s1, s2 in oos_ranked) / max(len(oos), 1)
        if kept >= args.oos_floor:
            results.append((acc, kept, a, m, sure))
    results.sort(reverse=True)
    print("accuracy  oos-unanswered  answer  margin  sure")
    for acc, kept, a, m, sure in results[:12]:
        print(f"{acc:8.1%}  {kept:14.1%}  {a:6.2f}  {m:6.2f}  {sure:4.2f}")


if __name__ == "__main__":
    main()
