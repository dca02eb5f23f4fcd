"""Synthetic statutory returns and agency records written from a synthetic population.

The files are in the real formats (SSDA903 CSVs with DD/MM/YYYY dates, CIN census XML
per collection year), as messy as real returns: periods of care of several episodes
(placement and legal-status changes), periods still open at the last 31 March, open
episodes repeated in every later year's file until they close, exact duplicate rows and
episodes overlapping the one before, short breaks, children in care long before their
family's profile, header rows cut short, children referred more than once; and the decoys
a label must see through: referrals marked "no further action", records and spells
outside the windows, siblings, children born during the window with a pre-birth plan,
families already in care on their profile date and windows past the last return.
Preparing them (:func:`escalation_model.returns.prepare`) gives back the population's
outcome level and indicator values for every family.
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from ..schema import ColumnRoles

__all__ = ["make_synthetic_returns"]

_DAY = pd.Timedelta(days=1)


def _collection_year(dates: pd.Series) -> np.ndarray:
    """The SSDA903/CIN collection year (ending 31 March) holding each date."""
    return (dates.dt.year + (dates.dt.month >= 4)).to_numpy()


def _people(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A parent and one to three children per family (siblings), ids made up."""
    n_children = rng.integers(1, 4, size=len(frame))
    fid = frame["family_id"].astype(str).to_numpy()
    rows = [pd.DataFrame({"family_id": fid, "person_id": "P" + fid, "role": "parent"})]
    for k in range(3):
        has = n_children > k
        rows.append(
            pd.DataFrame(
                {"family_id": fid[has], "person_id": "C" + fid[has] + f"-{k}", "role": "child"}
            )
        )
    people = pd.concat(rows, ignore_index=True)
    people["valid_from"] = pd.NaT
    return people


def _birth_dates(frame: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """The first child's birth date, by child id: an age on the profile date drawn
    evenly within the family's child age band ("0-4", "5-9", ...; none without one)."""
    if "child_age_band" not in frame.columns:
        return pd.Series(dtype="datetime64[s]")
    band = frame["child_age_band"].astype("string").fillna("")
    bounds = band.str.extract(r"^(\d+)-(\d+)$").astype(float)
    known = bounds[0].notna().to_numpy()
    low, high = bounds[0].to_numpy()[known], bounds[1].to_numpy()[known] + 1
    days = (low + rng.random(int(known.sum())) * (high - low)) * 365.25
    born = frame["profile_date"][known] - pd.to_timedelta(np.floor(days), unit="D")
    ids = "C" + frame["family_id"].astype(str)[known] + "-0"
    out = pd.Series(born.dt.floor("D").to_numpy(), index=ids.to_numpy())
    return out[~out.index.duplicated()]


def _spell_starts(frame: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """A start date inside (d, d + 12 months] for every family."""
    days = rng.integers(1, 360, size=len(frame))
    return frame["profile_date"] + pd.to_timedelta(days, unit="D")


#: Reasons for a new episode within a period (placement, legal status, both, other).
_CHANGES = np.array(["P", "L", "T", "B", "U"])
#: Legal statuses of care (never a short break).
_IN_CARE = np.array(["C2", "C2", "C1", "J2", "E1", "L1"])


def _episodes(
    child: np.ndarray, start: pd.Series, end: pd.Series, rng: np.random.Generator
) -> pd.DataFrame:
    """Periods of care ``[start, end)`` (end NaT: still open) as SSDA903 episodes: about
    two in three periods hold 2 to 4 episodes, cut at placement or legal-status changes
    (each episode starting where the one before ended); 2% of cuts overlap by a few days,
    and 1% of rows are written twice, as real extracts have them."""
    start = pd.Series(start.to_numpy(), dtype="datetime64[s]")
    end = pd.Series(end.to_numpy(), dtype="datetime64[s]")
    n_cuts = rng.choice([0, 1, 2, 3], size=len(child), p=[0.35, 0.35, 0.2, 0.1])
    span = (end.fillna(start + pd.Timedelta(days=400)) - start).dt.days.to_numpy()
    rows = []
    for k in range(4):  # episode k of each period that has at least k cuts
        has = n_cuts >= k
        lo = np.floor(span * k / (n_cuts + 1)).astype(int)
        hi = np.floor(span * (k + 1) / (n_cuts + 1)).astype(int)
        first = start + pd.to_timedelta(lo, unit="D")
        last = (start + pd.to_timedelta(hi, unit="D")).where(k < n_cuts, end)
        overlap = (k < n_cuts) & (rng.random(len(child)) < 0.02)
        last = last + pd.to_timedelta(np.where(overlap, 3, 0), unit="D")
        rows.append(
            pd.DataFrame(
                {
                    "child": child[has],
                    "start": first[has].to_numpy(),
                    "end": last[has].to_numpy(),
                    "ls": rng.choice(_IN_CARE, size=int(has.sum())),
                    "rne": "S" if k == 0 else rng.choice(_CHANGES, size=int(has.sum())),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    twice = out[rng.random(len(out)) < 0.01]
    return pd.concat([out, twice], ignore_index=True)


def _agency(
    frame: pd.DataFrame, roles: ColumnRoles, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Records (inside the look-back window where the indicator is 1, decoys outside),
    coverage (a source covers a family unless its indicator is not known) and the
    mapping TOML."""
    parent = "P" + frame["family_id"].astype(str)
    records, coverage, mapping = [], [], []
    for i, col in enumerate(roles.indicators()):
        code, source = f"C{i:02d}", f"agency_{col}"
        mapping.append(f'[indicators.{col}]\ncodes = ["{code}"]\nsources = ["{source}"]\n')
        value = frame[col].to_numpy(dtype=float, na_value=np.nan)
        on = value == 1
        back = rng.integers(0, 330, size=int(on.sum()))
        dates = frame["profile_date"][on] - pd.to_timedelta(back, unit="D")
        records.append(pd.DataFrame({"person_id": parent[on], "code": code, "date": dates}))
        decoy = rng.random(len(frame)) < 0.05  # outside: over a year before, or after d
        shift = np.where(
            rng.random(int(decoy.sum())) < 0.5,
            -rng.integers(380, 900, int(decoy.sum())),
            rng.integers(1, 300, int(decoy.sum())),
        )
        records.append(
            pd.DataFrame(
                {
                    "person_id": parent[decoy],
                    "code": code,
                    "date": frame["profile_date"][decoy] + pd.to_timedelta(shift, unit="D"),
                }
            )
        )
        covered = ~np.isnan(value)
        coverage.append(pd.DataFrame({"family_id": frame["family_id"][covered], "source": source}))
        records[-2]["source"] = records[-1]["source"] = source
    return (
        pd.concat(records, ignore_index=True),
        pd.concat(coverage, ignore_index=True),
        "\n".join(mapping),
    )


def _statutory(
    frame: pd.DataFrame, people: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Episodes, referrals, CP plans and early-help spells giving each family its level,
    with decoys that must not change it. Adds babies born during the window to
    ``people`` (returned as the new membership)."""
    level = frame["outcome_level"].astype(str).to_numpy()
    fid = frame["family_id"].astype(str).to_numpy()
    start = _spell_starts(frame, rng)
    child = "C" + fid + "-0"
    statutory = np.isin(level, ["child_in_need", "child_protection", "looked_after"])
    la = level == "looked_after"
    baby = statutory & ~la & (rng.random(len(frame)) < 0.2)  # born during the window
    child = np.where(baby, "B" + fid, child)
    babies = pd.DataFrame(
        {
            "family_id": fid[baby],
            "person_id": child[baby],
            "role": "child",
            "valid_from": (start[baby] + 5 * _DAY).to_numpy(),  # after a pre-birth plan
        }
    )
    members = pd.concat([people, babies], ignore_index=True)
    close = start + pd.to_timedelta(rng.integers(30, 500, len(frame)), unit="D")
    still = la & (rng.random(len(frame)) < 0.15)  # still in care at the last 31 March
    episodes = _episodes(child[la], start[la], close.where(~still)[la], rng)
    referred = statutory & ~la | (la & (rng.random(len(frame)) < 0.5))
    referrals = pd.DataFrame(
        {"child": child[referred], "start": start[referred], "end": close[referred], "nfa": False}
    )
    cp = level == "child_protection"
    plans = pd.DataFrame({"child": child[cp], "start": start[cp], "end": close[cp]})
    eh = level == "early_help"
    early = pd.DataFrame({"family_id": fid[eh], "start": start[eh]})
    # decoys: NFA referrals and short breaks in the window, spells before and after it
    quiet = ~statutory
    nfa = quiet & (rng.random(len(frame)) < 0.1)
    brk = quiet & (rng.random(len(frame)) < 0.05)
    old = rng.random(len(frame)) < 0.05
    late = quiet & (rng.random(len(frame)) < 0.05)
    again = referred & (rng.random(len(frame)) < 0.1)  # referred before, closed before d
    cared = rng.random(len(frame)) < 0.01  # in care long before the profile
    d = frame["profile_date"]
    sib = "C" + fid + "-0"
    decoys = [
        pd.DataFrame(
            {"child": sib[nfa], "start": start[nfa], "end": start[nfa] + _DAY, "nfa": True}
        ),
        pd.DataFrame(
            {
                "child": sib[old],
                "start": d[old] - 800 * _DAY,
                "end": d[old] - 700 * _DAY,
                "nfa": False,
            }
        ),
        pd.DataFrame(
            {
                "child": sib[late],
                "start": d[late] + 400 * _DAY,
                "end": d[late] + 500 * _DAY,
                "nfa": False,
            }
        ),
        pd.DataFrame(
            {
                "child": child[again],
                "start": d[again] - 300 * _DAY,
                "end": d[again] - 200 * _DAY,
                "nfa": False,
            }
        ),
    ]
    referrals = pd.concat([referrals, *decoys], ignore_index=True)
    breaks = pd.DataFrame(
        {"child": sib[brk], "start": start[brk], "end": start[brk] + 2 * _DAY, "ls": "V3"}
    ).assign(rne="S")
    past = _episodes(sib[cared], d[cared] - 1000 * _DAY, d[cared] - 640 * _DAY, rng)
    episodes = pd.concat([episodes, past, breaks], ignore_index=True)
    return members, episodes, referrals, plans, early


def _by_year(table: pd.DataFrame, last_year: int) -> dict[int, pd.DataFrame]:
    """Each record in every collection year it is open in: with a blank end in the years
    before the one it closes in (open at 31 March), repeated as real returns do."""
    first = _collection_year(table["start"])
    # still open: in every year's file to the last
    closes = np.where(table["end"].isna(), last_year + 1, _collection_year(table["end"]))
    out: dict[int, list[pd.DataFrame]] = {}
    for year in range(int(first.min()) if len(table) else last_year, last_year + 1):
        held = (first <= year) & (closes >= year)
        part = table[held].copy()
        part.loc[closes[held] > year, "end"] = pd.NaT
        out.setdefault(year, []).append(part)
    return {y: pd.concat(v) for y, v in out.items()}


def _uk(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%d/%m/%Y").fillna("")


def _write_ssda903(episodes: pd.DataFrame, births: pd.Series, folder: Path, last_year: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for year, part in _by_year(episodes, last_year).items():
        pd.DataFrame(
            {
                "CHILD": part["child"],
                "DECOM": _uk(part["start"]),
                "RNE": part["rne"],
                "LS": part["ls"],
                "CIN": "N1",
                "PLACE": "U1",
                "PLACE_PROVIDER": "PR1",
                "DEC": _uk(part["end"]),
                "REC": np.where(part["end"].isna(), "", "E11"),
                "REASON_PLACE_CHANGE": "",
                "HOME_POST": "",
                "PL_POST": "",
                "URN": "SC000000",
            }
        ).to_csv(folder / f"{year}-episodes.csv", index=False)
        child = pd.Series(part["child"].unique())
        _write_header(
            pd.DataFrame(
                {
                    "CHILD": child,
                    "SEX": "1",
                    "DOB": _uk(child.map(births).astype("datetime64[s]")),
                    "ETHNIC": "WBRI",
                    "UPN": "",
                    "MOTHER": "",
                    "MC_DOB": "",
                }
            ),
            folder / f"{year}-header.csv",
        )


def _write_header(header: pd.DataFrame, path: Path) -> None:
    """The header CSV with its trailing empty fields left off some rows (as extracts
    from some case systems write them): a ragged file every reader must take."""
    lines = header.to_csv(index=False).splitlines()
    cut = [line.rstrip(",") if i % 7 == 3 else line for i, line in enumerate(lines)]
    path.write_text("\n".join(cut) + "\n", "utf-8")


def _iso(dates: pd.Series) -> list[str]:
    """Dates as ``YYYY-MM-DD``, a missing date as an empty string."""
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d").fillna("").tolist()


def _write_cin(referrals: pd.DataFrame, plans: pd.DataFrame, folder: Path, last_year: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ref_years = _by_year(referrals, last_year)
    plan_years = _by_year(plans, last_year)
    for year in sorted(set(ref_years) | set(plan_years) | {last_year}):
        r = ref_years.get(year, referrals.iloc[:0]).sort_values("child", kind="stable")
        p = plan_years.get(year, plans.iloc[:0])
        plan_end = dict(
            zip(zip(p["child"], _iso(p["start"]), strict=True), _iso(p["end"]), strict=True)
        )
        children = []
        rows = zip(r["child"], _iso(r["start"]), _iso(r["end"]), r["nfa"], strict=True)
        for cid, group in groupby(rows, key=itemgetter(0)):
            details = []
            for _, start, closure, nfa in group:
                cp = ""
                if (cid, start) in plan_end:
                    end = plan_end[(cid, start)]
                    cp = (
                        f"<ChildProtectionPlans><CPPstartDate>{start}</CPPstartDate>"
                        + (f"<CPPendDate>{end}</CPPendDate>" if end else "")
                        + "</ChildProtectionPlans>"
                    )
                details.append(
                    f"<CINdetails><CINreferralDate>{start}</CINreferralDate>"
                    + (f"<CINclosureDate>{closure}</CINclosureDate>" if closure else "")
                    + f"<ReferralNFA>{'true' if nfa else 'false'}</ReferralNFA>{cp}"
                    "</CINdetails>"
                )
            children.append(
                f"<Child><ChildIdentifiers><LAchildID>{escape(str(cid))}</LAchildID>"
                "<GenderCurrent>1</GenderCurrent></ChildIdentifiers>"
                + "".join(details)
                + "</Child>"
            )
        (folder / f"cin-{year}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<Message><Header><CollectionDetails>'
            f"<Collection>CIN</Collection><Year>{year}</Year>"
            f"<ReferenceDate>{year}-03-31</ReferenceDate></CollectionDetails></Header>"
            f"<Children>{''.join(children)}</Children></Message>\n",
            "utf-8",
        )


PREPARE_TOML = """# Written by escalation-model synthetic-returns: the data path on made-up files.
# escalation-model prepare --config THIS_FILE --output families.parquet
# Paths are relative to this file.

[prepare]
families = "families.csv"            # one row per family and profile date, with its other columns
membership = "membership.csv"        # family_id, person_id, role, valid_from, valid_to
records = "records.csv"              # person_id, code, date, source (agency records)
coverage = "coverage.csv"            # family_id, source: which sources cover which families
mapping = "indicator_mapping.toml"   # agency codes -> the data contract's indicators
ssda903_episodes = ["ssda903/*-episodes.csv"]
ssda903_header = ["ssda903/*-header.csv"]
cin_census = ["cin/*.xml"]
early_help = "early_help.csv"        # family_id (or person_id), start, end
horizon_months = 12

[definitions]
exclude_short_breaks = true          # SSDA903 legal status V3/V4 is not entry into care
child_in_need = "referrals"          # or "plans" (child-in-need plans only)
"""


def _with_excluded_families(
    frame: pd.DataFrame, last_year: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add the families real data has but a study must leave out: 1% already looked
    after on their profile date (an episode open since before it), and 1% profiled so
    late that their window runs past the last return (censored). ``prepare`` excludes
    and counts them; the population's own families are untouched."""
    n = max(1, len(frame) // 100)
    already = frame.sample(n=n, random_state=rng).assign(outcome_level="none", escalated=0)
    already["family_id"] = ["A" + str(i) for i in range(n)]
    late = frame.sample(n=n, random_state=rng).assign(outcome_level="none", escalated=0)
    late["family_id"] = ["Z" + str(i) for i in range(n)]
    reference = pd.Timestamp(f"{last_year}-03-31")
    late["profile_date"] = (reference - pd.Timedelta(days=90)).floor("D")
    in_care = _episodes(
        ("C" + already["family_id"] + "-0").to_numpy(),
        already["profile_date"] - pd.Timedelta(days=100),
        pd.Series(pd.NaT, index=already.index),
        rng,
    )
    out = pd.concat([frame, already, late], ignore_index=True)
    out["family_id"] = out["family_id"].astype(str)
    return out, in_care


def make_synthetic_returns(
    population: Any, directory: str | Path, *, random_state: int | None = None
) -> Path:
    """Write, from a synthetic population, its statutory returns and agency records in
    the real formats, and ``prepare.toml`` to prepare them. Returns that file's path.

    Preparing the files (``escalation-model prepare --config DIR/prepare.toml``) gives
    back every family's ``outcome_level``, ``escalated`` and indicator values.
    """
    roles = population.roles
    rng = np.random.default_rng(random_state)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    last_year = int(
        _collection_year(
            pd.Series([population.frame["profile_date"].max() + pd.DateOffset(months=12)])
        )[0]
    )
    frame, in_care = _with_excluded_families(population.frame, last_year, rng)
    people = _people(frame, rng)
    records, coverage, mapping = _agency(frame, roles, rng)
    members, episodes, referrals, plans, early = _statutory(frame, people, rng)
    episodes = pd.concat([episodes, in_care], ignore_index=True)
    _write_ssda903(episodes, _birth_dates(frame, rng), folder / "ssda903", last_year)
    _write_cin(referrals, plans, folder / "cin", last_year)
    members.to_csv(folder / "membership.csv", index=False, date_format="%Y-%m-%d")
    records.to_csv(folder / "records.csv", index=False, date_format="%Y-%m-%d")
    coverage.to_csv(folder / "coverage.csv", index=False)
    early.to_csv(folder / "early_help.csv", index=False, date_format="%Y-%m-%d")
    (folder / "indicator_mapping.toml").write_text(mapping, "utf-8")
    kept = [
        c
        for c in frame.columns
        if c not in (*roles.indicators(), roles.outcome, roles.outcome_level)
    ]
    frame[kept].to_csv(folder / "families.csv", index=False, date_format="%Y-%m-%d")
    path = folder / "prepare.toml"
    path.write_text(PREPARE_TOML, "utf-8")
    return path
