"""A made-up input a model can be asked about: no family's data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["input_example"]


def input_example(model: Any, n: int = 2) -> pd.DataFrame:
    """A made-up input for the model's signature: indicator columns 0 and 1, the middle
    deprivation decile, the first level of any category. No family's data. Numbers are
    floats, so the signature accepts the missing ("not known") values real extracts have."""
    encoder = getattr(model, "encoder_", None)
    if encoder is None:
        return pd.DataFrame(np.zeros((n, model.n_features_in_)))
    names = list(encoder.get_feature_names_out())
    data: dict[str, Any] = {}
    for col in encoder.columns_:
        if col in encoder.categories_:
            data[col] = [encoder.categories_[col][0]] * n
        elif encoder.monotone_[names.index(col)] == -1:
            data[col] = [5.0] * n
        else:
            data[col] = [float(i % 2) for i in range(n)]
    return pd.DataFrame(data)
