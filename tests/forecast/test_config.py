"""ForecastConfig: every setting checked, with a message naming it."""

import json
import math

import pytest

from keras_lstm_cell.forecast.config import ForecastConfig


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"window": 0}, r"`window` to be a positive integer. Received: window=0"),
        ({"epochs": 0}, r"`epochs` to be a positive integer. Received: epochs=0"),
        ({"epochs": -3}, r"Received: epochs=-3"),
        ({"clipnorm": 2.0}, r"at most one of .* Received: global_clipnorm=1.0, clipnorm=2.0"),
        (
            {"val_fraction": math.nan},
            r"`val_fraction` to be in \(0, 1\). Received: val_fraction=nan",
        ),
        ({"learning_rate": 0}, r"`learning_rate` to be a finite positive number"),
        ({"learning_rate": math.inf}, r"finite positive number. Received: learning_rate=inf"),
        ({"learning_rate": math.nan}, r"Received: learning_rate=nan"),
        ({"global_clipnorm": math.inf}, r"Received: global_clipnorm=inf"),
        ({"seed": -1}, r"`seed` to be an integer in \[0, 4294967295\]. Received: seed=-1"),
        ({"seed": 2**32}, r"Received: seed=4294967296"),
        ({"max_gap": 0}, r"`max_gap` to be a positive integer. Received: max_gap=0"),
        ({"gaps": "fill"}, r"`gaps` to be one of error, keep, ffill, interpolate"),
        ({"unit": 3}, r"`unit` to be a string or None. Received: unit=3"),
        ({"transform": "log"}, r"`transform` to be one of level, diff, log_return"),
        ({"window": 1}, r"`window` >= 2 with transform='diff'"),
        ({"test_fraction": 0.95}, r"val_fraction \+ test_fraction < 1"),
    ],
)
def test_config_rejects(changes, match):
    with pytest.raises(ValueError, match=match):
        ForecastConfig(**changes)


def test_config_round_trip():
    config = ForecastConfig(features=("a", "b"), clipvalue=0.5, global_clipnorm=None)
    assert ForecastConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.clipping == {"clipvalue": 0.5}
