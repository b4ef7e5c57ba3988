"""The verdict on a model against persistence: in words, never a NaN."""

import numpy as np
import pytest

from keras_lstm_cell.forecast.evaluation import ForecastEvaluation

TRUTH = np.array([10.0, 12.0, 11.0, 13.0])
CONSTANT = np.full(4, 5.0)  # a constant target: persistence is exact


def _evaluation(truth, model, persistence):
    return ForecastEvaluation.compute(
        truth, {"lstm": model, "persistence": persistence}, mase_scale=1.0
    )


@pytest.mark.parametrize(
    "truth, model, persistence, verdict",
    [
        (
            CONSTANT,
            CONSTANT + np.array([0.0, 0.0, 0.0, 0.04896]),
            CONSTANT,
            "Persistence is exact on this data (MAE 0), so skill is undefined; "
            "the lstm model, with MAE 0.01224, does NOT beat it.",
        ),
        (
            CONSTANT,
            CONSTANT,
            CONSTANT,
            "Persistence is exact on this data (MAE 0), so skill is undefined; "
            "the lstm model ties it (MAE 0 too).",
        ),
        (
            TRUTH,
            TRUTH + 1.5,
            TRUTH - 1.5,
            "The lstm model ties persistence: MAE 1.5 for both (skill 0); it is as "
            "good as repeating the last value.",
        ),
        (
            TRUTH,
            np.full(4, np.nan),
            TRUTH - 1.5,
            "The lstm model cannot be compared with persistence: lstm has no finite "
            "forecasts to score (MAE n/a).",
        ),
        (
            TRUTH,
            TRUTH + 1.0,
            np.full(4, np.nan),
            "The lstm model cannot be compared with persistence: persistence has no "
            "finite forecasts to score (MAE n/a).",
        ),
    ],
)
def test_verdict_without_a_defined_skill_is_words(truth, model, persistence, verdict):
    evaluation = _evaluation(truth, model, persistence)
    assert evaluation.verdict() == verdict
    assert "nan" not in evaluation.table() and not evaluation.beats_persistence


def test_undefined_scores_are_n_a_in_the_table_and_null_in_json():
    evaluation = _evaluation(CONSTANT, CONSTANT + 1.0, CONSTANT)
    rows = {line.split()[0]: line.split()[1:] for line in evaluation.table().splitlines()}
    # MAE, RMSE, MAPE%, sMAPE%, MASE, skill
    assert rows["lstm"] == ["1", "1", "20", "18.18", "1", "n/a"]
    assert rows["persistence"] == ["0", "0", "0", "0", "0", "n/a"]
    scores = evaluation.to_dict()["scores"]
    assert scores["lstm"]["skill"] is None and scores["persistence"]["skill"] is None
    # An infinite error is not a number either.
    with np.errstate(over="ignore"):
        overflowing = _evaluation(TRUTH, np.full(4, 1e308), TRUTH - 1.5)
    assert overflowing.table().splitlines()[1].split()[2] == "n/a"  # RMSE
    assert overflowing.to_dict()["scores"]["lstm"]["rmse"] is None
