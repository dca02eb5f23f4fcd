"""The hand-over to the looked-after demand models: expected entries into care by quarter
and age band, in the shape those models take their entrants (no dependency on them).

Expected entries are the model's probabilities of entry into care summed over the latest
families, times the entries per family entering care, spread over the window's quarters
and the age bands at entry by the shares seen in the history (:class:`EntryHistory`,
recorded by ``prepare`` from the returns). Quarter and age band are taken as independent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from .._publish import DisclosureRules, publish_count, publish_figure
from .._text import period_codes
from ..schema import ColumnRoles, parse_profile_dates
from ._aggregate import LATEST_YEAR_DAYS, latest_profiles
from ._poisson_binomial import poisson_binomial_interval

__all__ = [
    "DEMAND_AGE_BANDS",
    "EntryHistory",
    "Handover",
    "age_band",
    "hand_over",
]

#: The demand models' age bands (age at entry into care, whole years).
DEMAND_AGE_BANDS = ("under 1", "1-4", "5-9", "10-15", "16+")
_LOWER_AGES = (1, 5, 10, 16)
#: The age band of a child whose birth date the returns do not give.
AGE_NOT_KNOWN = "not known"


def age_band(birth: pd.Series, on: pd.Series) -> pd.Series:
    """Age band at ``on`` of children born on ``birth`` (an unborn child is "under 1";
    no birth date: "not known").

    >>> b = pd.to_datetime(pd.Series(["2020-06-01", "2020-06-01", None, "2021-01-01"]))
    >>> on = pd.to_datetime(pd.Series(["2025-05-31", "2025-06-01", "2021-01-01", "2020-12-01"]))
    >>> age_band(b, on).tolist()
    ['1-4', '5-9', 'not known', 'under 1']
    >>> age_band(pd.Series([pd.NaT], dtype="datetime64[s]"), on[:1]).tolist()
    ['not known']
    """
    birth, on = pd.to_datetime(birth), pd.to_datetime(on)
    if birth.isna().all():  # no birth date at all (no header files): every age not known
        return pd.Series(AGE_NOT_KNOWN, index=birth.index, dtype=object)
    years = on.dt.year - birth.dt.year
    years -= (on.dt.month * 100 + on.dt.day < birth.dt.month * 100 + birth.dt.day).astype(int)
    band = np.searchsorted(_LOWER_AGES, years.clip(lower=0).fillna(0), side="right")
    out = pd.Series(np.asarray(DEMAND_AGE_BANDS, dtype=object)[band], index=birth.index)
    return out.where(birth.notna(), AGE_NOT_KNOWN)


class EntryHistory(BaseModel):
    """Entries into care in the history, as published counts (``None``: suppressed):
    family windows with an entry, entries, entries by quarter of the window and by age
    band at entry. ``prepare`` records it beside the prepared file; ``run`` reads it.

    >>> h = EntryHistory.from_entries(pd.DataFrame({"window": [*range(20)] * 2 + [*range(20, 40)],
    ...     "quarter": [1] * 20 + [2] * 40, "age_band": ["1-4"] * 40 + ["16+"] * 20}),
    ...     horizon_months=12)
    >>> h.entries, h.families, h.by_quarter, h.children_per_family()
    (60.0, 40.0, [20.0, 40.0, 0.0, 0.0], 1.5)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_months: int
    families: float | None
    entries: float | None
    by_quarter: list[float | None]
    by_age_band: dict[str, float | None]

    @classmethod
    def from_entries(
        cls, entries: pd.DataFrame, *, horizon_months: int, rules: DisclosureRules | None = None
    ) -> EntryHistory:
        """From one row per entry into care: ``window`` (the family and profile date),
        ``quarter`` of the window (1, 2, ...) and ``age_band`` at entry."""
        n_quarters = math.ceil(horizon_months / 3)
        quarters = entries["quarter"].value_counts()
        bands = entries["age_band"].value_counts()
        return cls(
            horizon_months=horizon_months,
            families=publish_count(entries["window"].nunique(), rules),
            entries=publish_count(len(entries), rules),
            by_quarter=[
                publish_count(int(quarters.get(q, 0)), rules) for q in range(1, 1 + n_quarters)
            ],
            by_age_band={
                b: publish_count(int(bands.get(b, 0)), rules)
                for b in (*DEMAND_AGE_BANDS, AGE_NOT_KNOWN)
            },
        )

    def under(self, rules: DisclosureRules) -> EntryHistory:
        """The counts published again under ``rules`` (a run's stricter rules apply to
        the history it reads)."""

        def again(v: float | None) -> float | None:
            return None if v is None else publish_count(v, rules)

        return self.model_copy(
            update={
                "families": again(self.families),
                "entries": again(self.entries),
                "by_quarter": [again(v) for v in self.by_quarter],
                "by_age_band": {k: again(v) for k, v in self.by_age_band.items()},
            }
        )

    def quarter_shares(self) -> np.ndarray | None:
        """Shares of entries by quarter of the window, from the published counts (a
        suppressed quarter counts as none); None if no quarter is published."""
        return _shares(self.by_quarter)

    def age_band_shares(self) -> dict[str, float] | None:
        """Shares of entries (of known age) by age band, from the published counts."""
        counts = [self.by_age_band.get(b) for b in DEMAND_AGE_BANDS]
        shares = _shares(counts)
        return None if shares is None else dict(zip(DEMAND_AGE_BANDS, shares.tolist(), strict=True))

    def children_per_family(self) -> float | None:
        """Entries into care per family window with one (ratio of published counts)."""
        if not self.families or self.entries is None:
            return None
        return self.entries / self.families

    def withheld(self) -> list[str]:
        """The quarters and age bands whose counts were suppressed (fewer than the
        threshold): their share is spread over the others."""
        out = [f"quarter {q}" for q, n in enumerate(self.by_quarter, 1) if n is None]
        return out + [b for b in DEMAND_AGE_BANDS if self.by_age_band.get(b) is None]


def _shares(counts: list[float | None]) -> np.ndarray | None:
    values = np.array([0.0 if c is None else c for c in counts])
    return None if values.sum() <= 0 else values / values.sum()


@dataclass(frozen=True, eq=False)
class Handover:
    """Expected entries into care among the latest families, as published.

    Attributes
    ----------
    table : DataFrame
        ``quarter`` (calendar), ``age_band``, ``unit``, ``expected_entries`` with
        ``lower`` and ``upper`` (Poisson-binomial interval given the shares).
    families : float or None
        The latest families scored (rounded).
    expected, lower, upper : float
        Expected entries in all, with the interval.
    unit : str
        "children" (entries per family from the history) or "families".
    horizon_months : int
        The window after each family's profile date.
    basis : list of str
        Where the timing, the age bands and the entries per family came from.
    """

    table: pd.DataFrame
    families: float | None
    expected: float
    lower: float
    upper: float
    unit: str
    horizon_months: int = 12
    basis: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Everything but the table, as published (the summary's ``handover``)."""
        return {
            "families": self.families,
            "horizon_months": self.horizon_months,
            "unit": self.unit,
            "expected": self.expected,
            "lower": self.lower,
            "upper": self.upper,
            "basis": list(self.basis),
        }

    def series(self) -> pd.Series:
        """Daily entrants by age band (expected entries over the horizon's days),
        indexed as the demand models index their entrants: a MultiIndex ``(from, to)``
        with ``from`` the empty tuple and ``to`` the age band (the placement split is
        the demand model's own).

        Raises
        ------
        ValueError
            If the table has no age bands (no ages at entry in the history).
        """
        if self.unit != "children":
            raise ValueError(
                "the hand-over has no age bands at entry. Fix: prepare the data from the "
                "returns (escalation-model prepare), which records the ages at entry."
            )
        days = self.table.attrs["horizon_days"]
        by_band = self.table.groupby("age_band", sort=False)["expected_entries"].sum() / days
        index = pd.MultiIndex.from_tuples([((), b) for b in by_band.index], names=["from", "to"])
        return pd.Series(by_band.to_numpy(), index=index, name="daily_entry_probability")


def _calendar_quarters(dates: pd.Series, n_quarters: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each quarter of the window (d, d + 3 months], ...: the calendar quarter
    holding its middle, per family (codes into the quarters' labels)."""
    out = []
    for q in range(n_quarters):
        middle = dates + pd.DateOffset(months=3 * q) + pd.Timedelta(days=45)
        out.append(period_codes(middle, "Q"))
    return out


def _basis(
    history: EntryHistory | None, n_quarters: int
) -> tuple[Any, dict[str, float], float, list[str]]:
    timing = None if history is None else history.quarter_shares()
    bands = None if history is None else history.age_band_shares()
    per_family = None if history is None else history.children_per_family()
    basis = []
    if timing is None:
        timing = np.full(n_quarters, 1 / n_quarters)
        basis.append("Timing: spread evenly over the window's quarters (no history of entries).")
    else:
        shares = ", ".join(f"quarter {q} {s:.0%}" for q, s in enumerate(timing, 1))
        basis.append(f"Timing: as entries into care fell in the history ({shares}).")
    if bands is None or per_family is None:
        basis.append(
            "Age band and entries per family: not known without the returns' birth dates "
            "(escalation-model prepare records them); the table counts families entering care."
        )
        return timing, {"all ages": 1.0}, 1.0, basis
    shares = ", ".join(f"{b} {s:.0%}" for b, s in bands.items())
    basis.append(f"Age at entry: as in the history ({shares}); independent of timing.")
    basis.append(f"Entries per family entering care: {per_family:.2f}, as in the history.")
    if history is not None and history.withheld():
        basis.append(
            "Fewer entries than the disclosure threshold in the history for "
            + ", ".join(history.withheld())
            + ": their share is spread over the others."
        )
    return timing, bands, per_family, basis


def hand_over(
    frame: pd.DataFrame,
    proba: np.ndarray,
    roles: ColumnRoles,
    *,
    history: EntryHistory | None = None,
    horizon_months: int = 12,
    window_days: int = LATEST_YEAR_DAYS,
    confidence: float = 0.95,
    rules: DisclosureRules | None = None,
) -> Handover:
    """Expected entries into care by calendar quarter and age band among the latest
    families (:func:`latest_profiles`), from their probabilities of entry ``proba``.

    Each family enters in quarter ``q`` and band ``b`` with probability
    ``p * timing[q] * band[b]``; a cell's interval is the Poisson-binomial interval of
    those, times the entries per family. The cells sum to the total expected entries.
    """
    n_quarters = math.ceil(horizon_months / 3)
    recent = latest_profiles(frame, roles, window_days)
    p = np.asarray(proba, dtype=float)[recent]
    dates = parse_profile_dates(frame, roles)[recent].reset_index(drop=True)
    timing, bands, per_family, basis = _basis(history, n_quarters)
    unit = "families" if "all ages" in bands else "children"
    cells: dict[tuple[str, str], list[np.ndarray]] = {}
    for q, (codes, periods) in enumerate(_calendar_quarters(dates, n_quarters)):
        for k in np.argsort(periods, kind="stable"):  # the quarters in order
            in_quarter = p[codes == k]
            for band, share in bands.items():
                cells.setdefault((periods[k], band), []).append(in_quarter * timing[q] * share)
    rows = []
    for (period, band), parts in sorted(cells.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))):
        cell = np.concatenate(parts)
        lo, hi = poisson_binomial_interval(cell, confidence)
        rows.append((period, band, per_family * cell.sum(), per_family * lo, per_family * hi))
    table = pd.DataFrame(
        rows, columns=["quarter", "age_band", "expected_entries", "lower", "upper"]
    )
    lo, hi = poisson_binomial_interval(p, confidence)
    for col in ("expected_entries", "lower", "upper"):
        table[col] = publish_figure(table[col].to_numpy())
    table.insert(2, "unit", unit)
    latest = dates.max() if len(dates) else pd.Timestamp("2000-01-01")
    table.attrs["horizon_days"] = (latest + pd.DateOffset(months=horizon_months) - latest).days
    return Handover(
        table=table,
        families=publish_count(int(recent.sum()), rules),
        expected=publish_figure(per_family * p.sum()),
        lower=publish_figure(per_family * lo),
        upper=publish_figure(per_family * hi),
        unit=unit,
        horizon_months=horizon_months,
        basis=basis,
    )


def _order(band: str) -> int:
    return (*DEMAND_AGE_BANDS, "all ages").index(band)
