"""The founding paper's profile table (section 3.1), for any data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._limits import FIVE_OR_MORE
from .._text import as_text
from ..schema import ColumnRoles
from ._disclosure import DisclosureRules, publish_count, publish_share

__all__ = ["count_indicators", "profile_table"]


def count_indicators(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> pd.Series:
    """Number of indicators recorded as present (missing counts as not recorded)."""
    if not columns:
        return pd.Series(0, index=frame.index, dtype="int64")
    # column by column: a frame-wide float matrix of millions of rows is a copy per call
    total = np.zeros(len(frame))
    for col in columns:
        total += frame[col].to_numpy(dtype=float, na_value=0.0)
    return pd.Series(total.astype(np.int64), index=frame.index)


def profile_table(
    frame: pd.DataFrame,
    roles: ColumnRoles | None = None,
    *,
    threshold: int = FIVE_OR_MORE,
    by: str | None = None,
    rules: DisclosureRules | None = None,
) -> pd.DataFrame:
    """Prevalence of each indicator among families with ``threshold``+ Think Family
    indicators, against all families, as in section 3.1 of the founding paper.

    Prevalence is the share of families with the indicator recorded as present among those
    whose value is known. A share is suppressed (missing) when it rests on fewer than
    ``rules.min_cell`` families with, or without, the indicator.

    Parameters
    ----------
    frame : pandas.DataFrame
    roles : ColumnRoles, optional
    threshold : int, default=5
        The number of Think Family indicators that defines the high-need group.
    by : str, optional
        A column to break the table down by (for example the authority column); the
        result then has one column pair per group.
    rules : DisclosureRules, optional

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``indicator``, ``label``, ``role``, and for each group
        ``share_high_need``, ``share_all``; with ``attrs`` noting the group sizes
        (rounded) and the disclosure control applied.

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> pop = make_synthetic_population(20_000, random_state=0)
    >>> t = profile_table(pop.frame)
    >>> t.loc[t.indicator == "no_parent_in_work", "share_high_need"].item() > 0.7
    True
    """
    roles = roles or ColumnRoles()
    rules = rules or DisclosureRules()
    if not roles.think_family:
        raise ValueError(
            "profile_table needs the 'think_family' role: map your Think Family indicator "
            "columns to it"
        )
    n_tf = count_indicators(frame, roles.think_family)
    high = (n_tf >= threshold).to_numpy()
    indicators = [(c, "think_family") for c in roles.think_family]
    indicators += [(c, "secondary") for c in roles.secondary]
    groups: list[tuple[str, np.ndarray]] = [("", np.ones(len(frame), dtype=bool))]
    if by is not None:
        keys = as_text(frame[by])
        groups = [(str(g), (keys == g).to_numpy()) for g in sorted(keys.dropna().unique())]

    rows = []
    sizes: dict[str, dict[str, float]] = {}
    for col, role in indicators:
        x = frame[col].to_numpy(dtype=float, na_value=np.nan)
        known = ~np.isnan(x)
        row: dict[str, object] = {"indicator": col, "label": roles.label(col), "role": role}
        for name, mask in groups:
            suffix = f" [{name}]" if name else ""
            for tag, sel in (("high_need", mask & high), ("all", mask)):
                k = sel & known
                n = int(k.sum())
                present = float(np.nansum(x[k]))
                ok = present >= rules.min_cell and (n - present) >= rules.min_cell
                # from the published counts: share x size gives back no unrounded count
                row[f"share_{tag}{suffix}"] = publish_share(present, n, rules) if ok else np.nan
        rows.append(row)
    for name, mask in groups:

        def rounded(v: int) -> float:
            published = publish_count(v, rules)
            return float("nan") if published is None else published

        sizes[name or "all"] = {
            "families": rounded(int(mask.sum())),
            "high_need_families": rounded(int((mask & high).sum())),
        }
    table = pd.DataFrame(rows)
    table.attrs["threshold"] = threshold
    table.attrs["group_sizes"] = sizes
    table.attrs["disclosure_control"] = rules.describe()
    return table
