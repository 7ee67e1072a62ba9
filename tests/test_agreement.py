"""Agreement: Krippendorff's alpha (nominal) per stance target, pairwise span F1."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import krippendorff
import numpy as np
import pytest

from toolkit.labels.agreement import agreement, krippendorff_alpha_nominal
from toolkit.labels.export import Annotation


def ann(aid, article, who, minute, gt=False):
    when = datetime(2024, 1, 1, 0, minute, tzinfo=UTC)
    return Annotation(aid, 100, article, who, when, gt)


def ent(aid, start, end, type_="PER"):
    return {"annotation_id": aid, "start": start, "end": end, "type": type_}


def st(aid, target, stance):
    return {"annotation_id": aid, "target": target, "stance": stance}


def test_alpha_by_hand():
    # units: [F, F], [A, A], [F, A]. Coincidences: o(F,F)=2, o(A,A)=2, o(F,A)=o(A,F)=1;
    # n_F = n_A = 3, n = 6. D_o = 2, D_e = (3*3 + 3*3) / 5 = 3.6 -> alpha = 1 - 2/3.6
    alpha = krippendorff_alpha_nominal([["F", "F"], ["A", "A"], ["F", "A"]])
    assert alpha == pytest.approx(1 - 2 / 3.6)
    assert krippendorff_alpha_nominal([["F", "F"], ["A", "A"]]) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal([["F", "A"]]) == pytest.approx(0.0)
    assert krippendorff_alpha_nominal([["N", "N"]]) is None  # one category: undefined
    assert krippendorff_alpha_nominal([["N"]]) is None  # nothing pairable


def test_alpha_matches_the_krippendorff_package_on_random_data():
    rng = random.Random(7)
    for _ in range(30):
        units = [
            [rng.choice("FAN") for _ in range(rng.randint(2, 4))] for _ in range(rng.randint(2, 9))
        ]
        ours = krippendorff_alpha_nominal(units)
        if ours is None:
            continue
        coders = max(map(len, units))
        matrix = np.full((coders, len(units)), np.nan)
        codes = {"F": 0, "A": 1, "N": 2}
        for j, unit in enumerate(units):
            for i, v in enumerate(unit):
                matrix[i, j] = codes[v]
        theirs = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        assert ours == pytest.approx(theirs)


def test_agreement_report_by_hand():
    anns = [
        ann(1, "a", "x", 1),
        ann(2, "a", "y", 2),
        ann(3, "b", "x", 3),
        ann(4, "b", "y", 4),
        ann(5, "c", "x", 5),  # single annotator: not counted
        ann(6, "a", "x", 0),  # x's older annotation of a: superseded by 1
    ]
    entities = [
        ent(1, 0, 5),
        ent(1, 10, 18),
        ent(1, 20, 25, "GPE"),
        ent(2, 0, 5),
        ent(2, 10, 14),  # boundary disagreement with (10, 18)
        ent(2, 20, 25, "LOC"),  # type disagreement: no match at all
        ent(3, 0, 3),
        ent(4, 0, 3),
        ent(5, 0, 9),
        ent(6, 30, 40),
    ]
    stance = [
        st(1, "Rusia", "FAVOR"),
        st(2, "Rusia", "AGAINST"),
        st(3, "Rusia", "FAVOR"),
        st(4, "Rusia", "FAVOR"),
        st(1, "ICC", "NONE"),
        st(2, "ICC", "NONE"),
        st(5, "Rusia", "AGAINST"),
    ]
    report = agreement(entities, stance, anns, ["Rusia", "ICC", "Barat"])
    assert report.articles == 2 and report.entity_pairs == 2
    # a: 3 + 3 mentions, 1 exact, 2 overlapping; b: 1 + 1, 1 exact -> 8 mentions in all
    assert report.entity_f1_exact == pytest.approx(2 * 2 / 8)
    assert report.entity_f1_overlap == pytest.approx(2 * 3 / 8)
    by_target = {t.target: t for t in report.stance}
    # Rusia units [F, A], [F, F]: o(F,F)=2, o(F,A)=o(A,F)=1; n_F=3, n_A=1, n=4;
    # D_e = (3*1 + 1*3) / 3 = 2 -> alpha = 1 - 2/2 = 0
    assert by_target["Rusia"].alpha == pytest.approx(0.0)
    assert (by_target["Rusia"].units, by_target["Rusia"].values) == (2, 4)
    assert by_target["ICC"].alpha is None and by_target["ICC"].units == 1
    assert by_target["Barat"].units == 0 and by_target["Barat"].alpha is None
    d = report.as_dict()
    assert d["stance_alpha"]["Rusia"]["alpha"] == pytest.approx(0.0)


def test_no_overlap_counts_twice():
    anns = [ann(1, "a", "x", 1), ann(2, "a", "y", 2)]
    entities = [ent(1, 0, 10), ent(2, 0, 4), ent(2, 5, 10)]
    report = agreement(entities, [], anns, [])
    assert report.entity_f1_exact == 0
    assert report.entity_f1_overlap == pytest.approx(2 * 1 / 3)
