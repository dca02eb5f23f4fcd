"""Family profiles from agency records: the founding paper's "Vulnerable Families Mapping".

At each profile date an indicator is 1 if any member of the family has a record of it
within the indicator's look-back window before that date, 0 if the sources behind it
cover the family and hold none, and missing ("not known") if no source behind it covers
the family. Which agency codes make which indicator, and each look-back window, come
from a small TOML mapping the analyst edits (:func:`read_indicator_mapping`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import Problem, SchemaError
from ..schema._registry import REGISTRY
from ._common import member_during, membership_links

__all__ = ["IndicatorRule", "family_profiles", "profile_schedule", "read_indicator_mapping"]


@dataclass(frozen=True)
class IndicatorRule:
    """Which records make one indicator of the data contract.

    Parameters
    ----------
    indicator : str
        A Think Family or secondary indicator of the registry (``domestic_abuse``...).
    codes : tuple of str
        The agency record codes that count.
    sources : tuple of str
        The sources those records come from (for coverage).
    lookback_months : int
        A record counts if dated in ``(d - lookback, d]``.
    """

    indicator: str
    codes: tuple[str, ...]
    sources: tuple[str, ...]
    lookback_months: int = 12


def read_indicator_mapping(path: str | PathLike[str]) -> list[IndicatorRule]:
    """Read ``[indicators.NAME]`` tables (``codes``, ``sources``, ``lookback_months``).

    Raises
    ------
    SchemaError
        Naming every table that is not an indicator of the registry, or lacks its codes.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(
            [
                Problem(
                    "(whole file)",
                    f"not a readable TOML file ({type(exc).__name__})",
                    "write it as [indicators.NAME] tables with codes, sources, lookback_months",
                    file=str(path),
                )
            ]
        ) from None
    rules, problems = [], []
    for name, table in (data.get("indicators") or {}).items():
        if name not in REGISTRY or REGISTRY[name].role not in ("think_family", "secondary"):
            problems.append(
                Problem(
                    f"indicators.{name}",
                    "not a Think Family or secondary indicator of the data contract",
                    "use one of the registry's indicator names (see README, 'The data contract')",
                    file=str(path),
                )
            )
            continue
        codes = table.get("codes") if isinstance(table, dict) else None
        if not codes or not isinstance(codes, list):
            problems.append(
                Problem(
                    f"indicators.{name}.codes",
                    "no list of record codes",
                    'list the agency codes that make this indicator, e.g. codes = ["DA01"]',
                    file=str(path),
                )
            )
            continue
        rules.append(
            IndicatorRule(
                name,
                tuple(str(c) for c in codes),
                tuple(str(s) for s in table.get("sources", [])),
                int(table.get("lookback_months", 12)),
            )
        )
    if problems:
        raise SchemaError(problems)
    return rules


def profile_schedule(start: str, end: str, freq: str = "QS") -> pd.DatetimeIndex:
    """Profile dates from ``start`` to ``end`` (default: the first day of each quarter).

    >>> [str(d.date()) for d in profile_schedule("2020-01-01", "2020-12-31")]
    ['2020-01-01', '2020-04-01', '2020-07-01', '2020-10-01']
    """
    return pd.date_range(start, end, freq=freq).astype("datetime64[s]")


def _records_per_family(
    records: pd.DataFrame, membership: pd.DataFrame, families: pd.Index
) -> pd.DataFrame:
    """Records moved onto their families as integer codes: ``fam`` (position in
    ``families``), ``code`` (the record code), ``date``, and the membership's ``valid_from``
    and ``valid_to`` (NaT: open). A person-level record goes to every family the person
    belongs to, for the profile dates on which they belong to it; a family-level record
    stays."""
    dates = pd.to_datetime(records["date"]).astype("datetime64[s]").to_numpy()
    codes = records["code"].astype(str).to_numpy()
    fam_of_record = np.full(len(records), -1)
    if "family_id" in records:
        given = records["family_id"].notna().to_numpy()
        fam_of_record[given] = families.get_indexer(records["family_id"][given].astype(str))
    else:
        given = np.zeros(len(records), dtype=bool)
    people, _ = pd.factorize(
        pd.concat([membership["person_id"], records["person_id"]], ignore_index=True).astype(str)
    )
    member_person, record_person = people[: len(membership)], people[len(membership) :]
    links = membership_links(membership)[["valid_from", "valid_to"]].assign(
        person=member_person, fam=families.get_indexer(membership["family_id"].astype(str))
    )
    by_person = pd.DataFrame({"person": record_person, "i": np.arange(len(records))})[~given]
    linked = by_person.merge(links[links["fam"] >= 0], on="person")
    idx = np.concatenate([np.flatnonzero(given), linked["i"].to_numpy()])
    fam = np.concatenate([fam_of_record[given], linked["fam"].to_numpy()])
    open_ = np.full(int(given.sum()), np.datetime64("NaT"), dtype="datetime64[s]")
    out = pd.DataFrame(
        {
            "fam": fam,
            "code": codes[idx],
            "date": dates[idx],
            "valid_from": np.concatenate([open_, linked["valid_from"].to_numpy()]),
            "valid_to": np.concatenate([open_, linked["valid_to"].to_numpy()]),
        }
    )
    return out[out["fam"] >= 0]


def family_profiles(
    membership: pd.DataFrame,
    records: pd.DataFrame,
    profile_dates: pd.DatetimeIndex | pd.DataFrame,
    rules: list[IndicatorRule],
    *,
    coverage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per family and profile date, one column per indicator (1, 0 or missing).

    Parameters
    ----------
    membership : DataFrame
        ``family_id, person_id`` and optionally ``valid_from, valid_to``: a person's
        records count for a family at the profile dates on which they are a member
        (blank: always).
    records : DataFrame
        ``person_id`` (or ``family_id``), ``code``, ``date``, ``source``.
    profile_dates : DatetimeIndex or DataFrame
        The same dates for every family, or ``family_id, profile_date`` rows.
    rules : list of IndicatorRule
    coverage : DataFrame, optional
        ``family_id, source``: which sources cover which families. Without it every
        source covers every family.

    Examples
    --------
    >>> members = pd.DataFrame({"family_id": ["F", "F", "G"], "person_id": ["a", "b", "c"]})
    >>> recs = pd.DataFrame({"person_id": ["b"], "code": ["DA"], "date": ["2020-03-01"],
    ...                      "source": ["police"]})
    >>> rule = IndicatorRule("domestic_abuse", ("DA",), ("police",), 12)
    >>> out = family_profiles(members, recs, profile_schedule("2020-04-01", "2020-04-01"), [rule])
    >>> out.set_index("family_id")["domestic_abuse"].to_dict()
    {'F': 1.0, 'G': 0.0}
    """
    if isinstance(profile_dates, pd.DataFrame):
        profiles = profile_dates[["family_id", "profile_date"]].copy()
    else:
        families = pd.DataFrame({"family_id": pd.unique(membership["family_id"])})
        profiles = families.merge(pd.DataFrame({"profile_date": profile_dates}), how="cross")
    profiles["profile_date"] = pd.to_datetime(profiles["profile_date"]).astype("datetime64[s]")
    profiles = profiles.sort_values(["family_id", "profile_date"], ignore_index=True)
    family_code, uniques = pd.factorize(profiles["family_id"].astype(str))
    families = pd.Index(uniques)  # one hash table, reused by every lookup below
    per_family = _records_per_family(records, membership, families)
    code_id, uniq_codes = pd.factorize(per_family["code"])
    record_codes = pd.Index(uniq_codes)
    per_family = per_family.drop(columns="code")
    covering = None
    if coverage is not None:
        source_id, sources = pd.factorize(coverage["source"].astype(str))
        covering = (
            families.get_indexer(coverage["family_id"].astype(str)),
            source_id,
            pd.Index(sources),
        )
    rows = pd.DataFrame(
        {
            "fam": family_code,
            "profile_date": profiles["profile_date"],
            "row": np.arange(len(profiles)),
        }
    )
    for rule in rules:
        value = np.zeros(len(profiles))
        if covering is not None and rule.sources:  # no source behind it: not known
            fam, source_id, sources = covering
            wanted = sources.get_indexer(list(rule.sources))
            known = np.zeros(len(families) + 1, dtype=bool)
            known[fam[np.isin(source_id, wanted[wanted >= 0])]] = True  # -1: the spare slot
            value[~known[family_code]] = np.nan
        wanted_codes = record_codes.get_indexer(list(rule.codes))
        hits = per_family[np.isin(code_id, wanted_codes[wanted_codes >= 0])].merge(rows, on="fam")
        d = hits["profile_date"]
        start = d - pd.DateOffset(months=rule.lookback_months)
        inside = (hits["date"] > start) & (hits["date"] <= d) & member_during(hits, d, d)
        value[hits.loc[inside, "row"].to_numpy()] = 1.0  # a record is its own coverage
        profiles[rule.indicator] = value
    return profiles
