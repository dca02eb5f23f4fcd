"""SSDA903 (looked-after children, England): the ``episodes`` and ``header`` files."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..schema import Problem, SchemaError
from ._care import deduplicate
from ._common import (
    Paths,
    as_paths,
    collection_year_end,
    implausible_dates,
    parse_return_dates,
    read_text_csv,
)

__all__ = ["SSDA903", "read_ssda903"]

EPISODE_COLUMNS = ("CHILD", "DECOM", "DEC", "LS")
HEADER_COLUMNS = ("CHILD", "SEX", "DOB")


@dataclass(eq=False)
class SSDA903:
    """Episodes of care and the children's header, over one or more collection years.

    Attributes
    ----------
    episodes : pandas.DataFrame
        ``child_id, start, end, reason_new_episode, legal_status, as_of``; one row per
        episode (an open episode repeated in the next year's file is kept once, with its
        end date where a later file has it). ``end`` is NaT while the episode is open;
        ``as_of`` is the 31 March ending the collection year of the last file holding it.
    children : pandas.DataFrame or None
        ``child_id, sex, birth_date, ethnicity`` from the header files (the birth date is
        a direct identifier: drop it once linkage is done).
    reference_dates : list of pandas.Timestamp
        Each episodes file's collection year end (31 March), the first on or after its
        latest episode start: what the file can label up to.
    notes : list of Problem
        What the files hold that is kept but should be checked (implausible dates).
    """

    episodes: pd.DataFrame
    children: pd.DataFrame | None = None
    reference_dates: list[pd.Timestamp] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


#: A column only one kind of SSDA903 file has: how a file given in the wrong place is told.
SIGNATURES = {
    "DECOM": "episodes",
    "ETHNIC": "header",
    "DUC": "uasc",
    "MIS_START": "missing",
    "REVIEW": "reviews",
    "DATE_INT": "ad1",
    "DATE_PLACED": "placed_for_adoption",
    "PREV_PERM": "previous_permanence",
    "IN_TOUCH": "oc3",
    "SDQ_SCORE": "oc2",
}


def _wrong_file(columns: list[str], what: str, path: str) -> list[Problem]:
    """A problem if the file's columns are another SSDA903 file's and not its own."""
    kinds = {SIGNATURES[c] for c in columns if c in SIGNATURES}
    if what in kinds or not kinds:
        return []
    other = sorted(kinds)[0]
    return [
        Problem(
            "(whole file)",
            f"this is not an SSDA903 {what} file: its columns are the {other} file's",
            f"pass the {what} file here (the {other} file is not read)",
            file=path,
        )
    ]


def _read_csv(path: str, columns: tuple[str, ...], what: str) -> tuple[pd.DataFrame, list[Problem]]:
    frame, problems = read_text_csv(
        path,
        columns,
        what=f"the SSDA903 {what} file",
        fix=f"pass the {what} CSV exported for the DfE return",
        missing_rule=f"a column every SSDA903 {what} file has is missing",
        missing_fix=f"export the {what} file with the DfE column names ({', '.join(columns)})",
        upper_columns=True,
    )
    wrong = _wrong_file([str(c) for c in frame.columns], what, path)
    return frame, wrong or problems


def _episodes(path: str) -> tuple[pd.DataFrame, list[Problem], list[Problem]]:
    frame, problems = _read_csv(path, EPISODE_COLUMNS, "episodes")
    if problems:
        return pd.DataFrame(), problems, []
    start, p1 = parse_return_dates(frame["DECOM"], file=path, column="DECOM", required=True)
    end, p2 = parse_return_dates(frame["DEC"], file=path, column="DEC", required=False)
    if p1 or p2:
        return pd.DataFrame(), p1 + p2, []
    year_end = collection_year_end(start.max()) if start.notna().any() else pd.NaT
    out = pd.DataFrame(
        {
            "child_id": frame["CHILD"].str.strip(),
            "start": start,
            "end": end,
            "reason_new_episode": frame["RNE"].str.strip() if "RNE" in frame else "",
            "legal_status": frame["LS"].str.strip().str.upper(),
            "as_of": pd.Series(year_end, index=frame.index).astype("datetime64[s]"),
        }
    )
    notes = implausible_dates(out["start"], year_end, file=path, column="DECOM")
    notes += implausible_dates(out["end"], year_end, file=path, column="DEC")
    backwards = out["end"].notna() & (out["end"] < out["start"])
    if backwards.any():
        p1.append(
            Problem(
                "DEC",
                "episodes that end before they start (DEC before DECOM)",
                "correct DECOM or DEC in the case system's extract",
                n_rows=int(backwards.sum()),
                file=path,
                rows=tuple(int(i) + 2 for i in backwards.to_numpy().nonzero()[0][:5]),
            )
        )
    blank = out.child_id == ""
    if blank.any():
        p1.append(
            Problem(
                "CHILD",
                "episodes without a child id",
                "fill CHILD from the case system, or remove the rows",
                n_rows=int(blank.sum()),
                file=path,
                rows=tuple(int(i) + 2 for i in blank.to_numpy().nonzero()[0][:5]),
            )
        )
    return out, p1 + p2, notes


def _children(path: str) -> tuple[pd.DataFrame, list[Problem]]:
    frame, problems = _read_csv(path, HEADER_COLUMNS, "header")
    if problems:
        return pd.DataFrame(), problems
    dob, problems = parse_return_dates(
        frame["DOB"], file=path, column="DOB", required=False, quote=False
    )
    out = pd.DataFrame(
        {
            "child_id": frame["CHILD"].str.strip(),
            "sex": frame["SEX"].str.strip(),
            "birth_date": dob,
            "ethnicity": frame["ETHNIC"].str.strip() if "ETHNIC" in frame else "",
        }
    )
    return out, problems


def read_ssda903(episodes: Paths, header: Paths | None = None) -> SSDA903:
    """Read SSDA903 ``episodes`` files (and optionally ``header`` files), one collection
    year or several. Dates may be DD/MM/YYYY or ISO, value by value.

    Raises
    ------
    SchemaError
        Every problem in every file at once (file, column, rule, examples, rows, fix);
        a file that is not a CSV is a problem too, never a parser traceback.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rows = "CHILD,DECOM,RNE,LS,DEC\\n7,01/05/2020,S,C2,\\n7,01/05/2020,S,C2,2021-06-30\\n"
    >>> _ = (folder / "episodes.csv").write_text(rows)
    >>> s = read_ssda903(folder / "episodes.csv")
    >>> s.episodes[["child_id", "end"]].to_dict("records")
    [{'child_id': '7', 'end': Timestamp('2021-06-30 00:00:00')}]
    >>> [str(d.date()) for d in s.reference_dates]
    ['2021-03-31']
    """
    problems: list[Problem] = []
    notes: list[Problem] = []
    frames = []
    for path in as_paths(episodes):
        frame, found, noted = _episodes(str(path))
        problems += found
        notes += noted
        frames.append(frame)
    children = None
    if header is not None:
        parts = []
        for path in as_paths(header):
            frame, found = _children(str(path))
            problems += found
            parts.append(frame)
        if not problems:
            children = (
                pd.concat(parts, ignore_index=True)
                .drop_duplicates("child_id", keep="last")
                .reset_index(drop=True)
            )
    if problems:
        raise SchemaError(problems)
    episodes = deduplicate(pd.concat(frames, ignore_index=True))
    ends = sorted({pd.Timestamp(f["as_of"].iloc[0]) for f in frames if len(f)})
    return SSDA903(episodes, children, ends, notes)
