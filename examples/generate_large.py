#!/usr/bin/env python3
"""Write a large scenario (SPEC §7 format) for load and regression tests of `kaohe simulate`.

    python3 examples/generate_large.py --units 300 --seed 2026 --out /tmp/scenario-300.json

Three cohorts (secondary_committee, organ_committee, grassroots_branch), all on the default
scheme (read from domain/data/default-scheme.json); 9 representatives in 3 ballot categories,
each scoring every unit; every point of every unit scored (multiples of 0.5); self-review for
90% of the units; a handful of adjustments. The script computes W and D itself (SPEC §4) and
perturbs ballots until every unit's (W, D) pair is distinct within its cohort, so no two units
are equal on (F, D, W) and no tie can arise at a quota boundary: the scenario needs no
`allocation` section. Standard library only; the same seed gives the same file.
Prints nothing but a one-line summary on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SCHEME_PATH = Path(__file__).resolve().parents[1] / "domain/data/default-scheme.json"
COHORTS = [  # org type, share of the units, name pattern
    ("secondary_committee", Decimal("0.3"), "第{i}分公司党委"),
    ("organ_committee", Decimal("0.2"), "第{i}子公司机关党委"),
    ("grassroots_branch", Decimal("0.5"), "第{i}基层党支部"),
]
CATEGORIES = {"leaders": Decimal("0.4"), "heads": Decimal("0.3"), "staff": Decimal("0.3")}
REPS = [(f"R{i:02d}", cat) for i, cat in enumerate(["leaders"] * 3 + ["heads"] * 3 + ["staff"] * 3, 1)]
HALF = Decimal("0.5")
CENT = Decimal("0.01")


def round2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def text(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s


def load_points() -> list[tuple[str, Decimal]]:
    scheme = json.loads(SCHEME_PATH.read_text(encoding="utf-8"))
    return [
        (p["code"], Decimal(str(p["max"])))
        for ind in scheme["indicators"]
        for child in ind["children"]
        for p in child["points"]
    ]


def to_half(x: float) -> Decimal:
    return Decimal(round(x * 2)) / 2


def work_score(scores: dict[str, Decimal], maxima: dict[str, Decimal]) -> Decimal:
    return round2(100 * sum(scores.values()) / sum(maxima[c] for c in scores))


def debrief_score(ballots: dict[str, list[int]]) -> Decimal:
    # 3 ballots per category < trim_min_ballots (5): plain means, no trimming.
    num = sum(w * Decimal(sum(ballots[c])) / len(ballots[c]) for c, w in CATEGORIES.items())
    return round2(num / sum(CATEGORIES.values()))


def build(n: int, seed: int, share: str) -> tuple[dict, str]:
    rng = random.Random(seed)
    points = load_points()
    maxima = dict(points)

    # cohort sizes: the shares, the rest to the last cohort
    sizes = [max(1, int(n * s)) for _, s, _ in COHORTS]  # every cohort gets a unit (n >= 3)
    sizes[-1] += n - sum(sizes)
    units = []
    for (org_type, _, pattern), size in zip(COHORTS, sizes):
        for i in range(1, size + 1):
            units.append({"key": f"U{len(units) + 1:04d}", "name": pattern.format(i=i), "org_type": org_type})
    rng.shuffle(units)  # interleave the cohorts, then renumber in the shuffled order
    for idx, u in enumerate(units, 1):
        u["key"] = f"U{idx:04d}"

    scores: dict[str, dict[str, Decimal]] = {}
    ballots: dict[str, dict[str, list[int]]] = {}  # unit -> category -> scores in REPS order
    quality: dict[str, float] = {}
    for u in units:
        k = u["key"]
        q = min(0.995, max(0.45, rng.gauss(0.88, 0.07)))
        quality[k] = q
        scores[k] = {c: min(m, max(Decimal(0), to_half(float(m) * rng.gauss(q, 0.06)))) for c, m in points}
        centre = 55 + 45 * q
        ballots[k] = {cat: [] for cat in CATEGORIES}
        for _, cat in REPS:
            ballots[k][cat].append(max(60, min(100, round(rng.gauss(centre, 2.5)))))

    # make (W, D) distinct within each cohort: bump one ballot of a colliding unit
    for org_type, _, _ in COHORTS:
        seen: set[tuple[Decimal, Decimal]] = set()
        for u in (u for u in units if u["org_type"] == org_type):
            k = u["key"]
            w = work_score(scores[k], maxima)
            while (w, debrief_score(ballots[k])) in seen:
                cat = rng.choice(list(CATEGORIES))
                j = rng.randrange(3)
                v = ballots[k][cat][j]
                ballots[k][cat][j] = v + 1 if v < 100 and (v == 60 or rng.random() < 0.5) else v - 1
            seen.add((w, debrief_score(ballots[k])))

    # self-review for 90% of the units: the evaluators' score, sometimes half a point kinder
    reviewed = set(rng.sample([u["key"] for u in units], round(n * 0.9)))
    self_review = {}
    for u in units:
        k = u["key"]
        if k in reviewed:
            self_review[k] = {
                c: text(min(maxima[c], s + (HALF if rng.random() < 0.3 else 0))) for c, s in scores[k].items()
            }

    # a handful of adjustments
    keys = [u["key"] for u in units]
    picks = rng.sample(keys, min(len(keys), 10))
    reasons_bonus = ["获评全国先进基层党组织", "获评省国资委党建工作示范点", "党建品牌创建成效显著", "承担重大专项任务表现突出"]
    adjustments = []
    for i, k in enumerate(picks[:5]):
        adjustments.append({"unit": k, "kind": "bonus", "points": str(rng.choice(["1", "1.5", "2", "3"])),
                            "reason": reasons_bonus[i % len(reasons_bonus)],
                            "decision": "reject" if i == 4 else "approve"})
    if len(picks) > 5:
        adjustments.append({"unit": picks[5], "kind": "bonus", "points": "2", "reason": "集团党建创新成果一等奖", "decision": "approve"})
    for k in picks[6:8]:
        adjustments.append({"unit": k, "kind": "downgrade", "levels": 1, "reason": "巡察指出重大问题整改不到位", "decision": "approve"})
    if len(picks) > 8:
        adjustments.append({"unit": picks[8], "kind": "veto", "reason": "领导班子成员严重违纪违法", "decision": "approve"})
    if len(picks) > 9:
        adjustments.append({"unit": picks[9], "kind": "veto", "reason": "发生重大安全生产责任事故", "decision": "reject"})

    doc = {
        "cycle": {
            "key": f"large-{n}", "year": 2026, "name": f"2026年度党建工作考核（{n}个单位）",
            "policy": {"work_weight": "0.7", "debrief_weight": "0.3", "excellent_share": share,
                       "thresholds": {"excellent": "90", "good": "80", "average": "60"},
                       "bonus_cap": "3", "trim_min_ballots": 5},
        },
        "schemes": {org_type: "default" for org_type, _, _ in COHORTS},
        "units": units,
        "self_review": self_review,
        "scores": {k: {c: text(s) for c, s in sc.items()} for k, sc in scores.items()},
        "debrief": {
            "categories": {c: str(w) for c, w in CATEGORIES.items()},
            "ballots": [
                {"representative": rep, "category": cat,
                 "scores": {u["key"]: str(ballots[u["key"]][cat][(i % 3)]) for u in units}}
                for i, (rep, cat) in enumerate(REPS)
            ],
        },
        "adjustments": adjustments,
    }
    summary = (f"wrote {n} units ({', '.join(f'{t}={s}' for (t, _, _), s in zip(COHORTS, sizes))}), "
               f"{len(self_review)} self-reviews, {len(REPS)} ballots, {len(adjustments)} adjustments, seed {seed}")
    return doc, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=300, help="number of units (default 300)")
    ap.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    ap.add_argument("--out", default="scenario-large.json", help="output file (default scenario-large.json)")
    ap.add_argument("--excellent-share", default="0.5", help="policy excellent_share (default 0.5)")
    args = ap.parse_args(argv)
    if args.units < 3:
        ap.error("--units must be at least 3")
    doc, summary = build(args.units, args.seed, args.excellent_share)
    out = Path(args.out)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{summary} -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
