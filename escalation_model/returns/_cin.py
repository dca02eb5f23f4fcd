"""The Children in Need census (England): one XML file per collection year, 2017-2026.

Read with ``defusedxml`` (a file from outside is never trusted: no entity expansion, no
external entities). Only the elements the label needs are read; elements this reader
does not know (newer years add some) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse

from ..schema import Problem, SchemaError
from ._care import deduplicate
from ._common import Paths, as_paths, implausible_dates, parse_return_dates

__all__ = ["CINCensus", "read_cin_census"]

_TRUE = {"true", "1", "y", "yes"}


@dataclass(eq=False)
class CINCensus:
    """Referrals, plans and children over one or more census years.

    Attributes
    ----------
    children : pandas.DataFrame
        ``child_id, sex, birth_date, expected_birth_date`` (birth dates identify people:
        drop them once linkage is done).
    referrals : pandas.DataFrame
        ``child_id, referral_date, closure_date, no_further_action, as_of``; one row per
        referral (a referral open at one census is in the next one too: kept once).
    cin_plans, cp_plans : pandas.DataFrame
        ``child_id, start, end, as_of`` of child-in-need plans and child protection
        plans. ``as_of`` is the ``ReferenceDate`` of the last census holding the record.
    reference_dates : list of pandas.Timestamp
        Each file's ``ReferenceDate`` (31 March of the collection year).
    notes : list of Problem
        What the files hold that is kept but should be checked (implausible dates).
    """

    children: pd.DataFrame
    referrals: pd.DataFrame
    cin_plans: pd.DataFrame
    cp_plans: pd.DataFrame
    reference_dates: list[pd.Timestamp] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def _text(element: Element | None, tag: str) -> str:
    found = None if element is None else element.find(tag)
    return "" if found is None or found.text is None else found.text.strip()


def _records(root: Element) -> dict[str, list[dict[str, Any]]]:
    """Plain records of the elements the label needs, with each child's position."""
    out: dict[str, list[dict[str, Any]]] = {
        "children": [],
        "referrals": [],
        "cin_plans": [],
        "cp_plans": [],
    }
    for n, child in enumerate(root.iterfind("Children/Child"), start=1):
        ids = child.find("ChildIdentifiers")
        cid = _text(ids, "LAchildID")
        sex = _text(ids, "Sex") or _text(ids, "GenderCurrent")
        out["children"].append(
            {
                "child_id": cid,
                "sex": sex,
                "birth_date": _text(ids, "PersonBirthDate"),
                "expected_birth_date": _text(ids, "ExpectedPersonBirthDate"),
                "n": n,
            }
        )
        for detail in child.iterfind("CINdetails"):
            out["referrals"].append(
                {
                    "child_id": cid,
                    "referral_date": _text(detail, "CINreferralDate"),
                    "closure_date": _text(detail, "CINclosureDate"),
                    "no_further_action": _text(detail, "ReferralNFA").lower() in _TRUE,
                    "n": n,
                }
            )
            for kind, block, start, end in (
                ("cin_plans", "CINPlanDates", "CINPlanStartDate", "CINPlanEndDate"),
                ("cp_plans", "ChildProtectionPlans", "CPPstartDate", "CPPendDate"),
            ):
                for plan in detail.iterfind(block):
                    out[kind].append(
                        {
                            "child_id": cid,
                            "start": _text(plan, start),
                            "end": _text(plan, end),
                            "n": n,
                        }
                    )
    return out


_DATES = {
    "children": (("birth_date", False), ("expected_birth_date", False)),
    "referrals": (("referral_date", True), ("closure_date", False)),
    "cin_plans": (("start", True), ("end", False)),
    "cp_plans": (("start", True), ("end", False)),
}
_IDENTIFYING = {"birth_date", "expected_birth_date"}
_COLUMNS = {
    "children": ["child_id", "sex", "birth_date", "expected_birth_date"],
    "referrals": ["child_id", "referral_date", "closure_date", "no_further_action"],
    "cin_plans": ["child_id", "start", "end"],
    "cp_plans": ["child_id", "start", "end"],
}


def _tables(
    path: str, root: Element, reference: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], list[Problem], list[Problem]]:
    problems: list[Problem] = []
    notes: list[Problem] = []
    tables = {}
    for kind, records in _records(root).items():
        frame = pd.DataFrame(records, columns=[*_COLUMNS[kind], "n"])
        for col, required in _DATES[kind]:
            frame[col], found = parse_return_dates(
                frame[col],
                file=path,
                column=col,
                required=required,
                quote=col not in _IDENTIFYING,
                row_numbers=frame["n"].tolist(),
            )
            problems += [_as_child(p) for p in found]
            if not found:
                notes += implausible_dates(
                    frame[col], reference, file=path, column=col, quote=col not in _IDENTIFYING
                )
        tables[kind] = frame.drop(columns="n").assign(as_of=reference)
    blank = tables["children"]["child_id"] == ""
    if blank.any():
        problems.append(
            Problem(
                "LAchildID",
                "children without an LAchildID",
                "fill LAchildID from the case system",
                n_rows=int(blank.sum()),
                file=path,
            )
        )
    return tables, problems, notes


def _as_child(problem: Problem) -> Problem:
    """Problems in an XML file count children, not rows."""
    rule = problem.rule
    if problem.rows:
        rule += " (Child number " + ", ".join(str(r) for r in problem.rows) + ")"
    return Problem(problem.column, rule, problem.fix, examples=problem.examples, file=problem.file)


def _read_one(
    path: str,
) -> tuple[dict[str, pd.DataFrame], pd.Timestamp | None, list[Problem], list[Problem]]:
    try:
        root: Element | None = parse(path).getroot()
    except (OSError, ParseError, DefusedXmlException) as exc:
        return (
            {},
            None,
            [
                Problem(
                    "(whole file)",
                    f"the CIN census file is not readable XML ({type(exc).__name__})",
                    "pass the XML file submitted to the DfE for the Children in Need census",
                    file=path,
                )
            ],
            [],
        )
    if root is None or root.tag != "Message" or root.find("Children") is None:
        return (
            {},
            None,
            [
                Problem(
                    "(whole file)",
                    "the XML is not a CIN census (no Message root with Children)",
                    "pass the XML file submitted to the DfE for the Children in Need census",
                    file=path,
                )
            ],
            [],
        )
    reference = _text(root.find("Header/CollectionDetails"), "ReferenceDate")
    ref = pd.to_datetime(reference[:10], format="%Y-%m-%d", errors="coerce")
    if pd.isna(ref):
        problem = Problem(
            "ReferenceDate",
            "the census has no readable Header/CollectionDetails/ReferenceDate, so what it "
            "can label is not known",
            "export the file with its header, as submitted to the DfE (ReferenceDate YYYY-03-31)",
            file=path,
        )
        return {}, None, [problem], []
    tables, problems, notes = _tables(path, root, pd.Timestamp(ref).as_unit("s"))
    return tables, pd.Timestamp(ref), problems, notes


def read_cin_census(paths: Paths) -> CINCensus:
    """Read one or more CIN census XML files (collection years 2017 to 2026).

    Sex is read from ``Sex`` (2026 on) or ``GenderCurrent``; ``ReferralNFA`` may be
    true/false or 1/0; dates ISO (or DD/MM/YYYY). Unknown elements are ignored.

    Raises
    ------
    SchemaError
        Every problem in every file at once (file, element, rule, examples, fix); a file
        that is not XML, or not a CIN census, is a problem too, never a parser traceback.
    """
    problems: list[Problem] = []
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in _COLUMNS}
    references = []
    notes: list[Problem] = []
    for path in as_paths(paths):
        tables, ref, found, noted = _read_one(str(path))
        problems += found
        notes += noted
        for kind, table in tables.items():
            parts[kind].append(table)
        if ref is not None:
            references.append(ref)
    if problems:
        raise SchemaError(problems)
    joined = {
        k: pd.concat(v, ignore_index=True) if v else pd.DataFrame(columns=[*_COLUMNS[k], "as_of"])
        for k, v in parts.items()
    }
    return CINCensus(
        children=joined["children"].drop_duplicates("child_id", keep="last").reset_index(drop=True),
        referrals=deduplicate(joined["referrals"], "referral_date", "closure_date"),
        cin_plans=deduplicate(joined["cin_plans"], "start", "end"),
        cp_plans=deduplicate(joined["cp_plans"], "start", "end"),
        reference_dates=sorted(references),
        notes=notes,
    )
