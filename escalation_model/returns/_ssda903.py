"""SSDA903 (looked-after children, England): the ``episodes`` and ``header`` files."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..schema import Problem, SchemaError
from ._common import Paths, as_paths, parse_return_dates, read_text_csv

__all__ = ["SSDA903", "read_ssda903"]

EPISODE_COLUMNS = ("CHILD", "DECOM", "DEC", "LS")
HEADER_COLUMNS = ("CHILD", "SEX", "DOB")


@dataclass(eq=False)
class SSDA903:
    """Episodes of care and the children's header, over one or more collection years.

    Attributes
    ----------
    episodes : pandas.DataFrame
        ``child_id, start, end, reason_new_episode, legal_status``; one row per episode
        (an open episode repeated in the next year's file is kept once, with its end
        date where a later file has it). ``end`` is NaT while the episode is open.
    children : pandas.DataFrame or None
        ``child_id, sex, birth_date, ethnicity`` from the header files (the birth date is
        a direct identifier: drop it once linkage is done).
    """

    episodes: pd.DataFrame
    children: pd.DataFrame | None = None


def _read_csv(path: str, columns: tuple[str, ...], what: str) -> tuple[pd.DataFrame, list[Problem]]:
    return read_text_csv(
        path,
        columns,
        what=f"the SSDA903 {what} file",
        fix=f"pass the {what} CSV exported for the DfE return",
        missing_rule=f"a column every SSDA903 {what} file has is missing",
        missing_fix=f"export the {what} file with the DfE column names ({', '.join(columns)})",
        upper_columns=True,
    )


def _episodes(path: str) -> tuple[pd.DataFrame, list[Problem]]:
    frame, problems = _read_csv(path, EPISODE_COLUMNS, "episodes")
    if problems:
        return pd.DataFrame(), problems
    start, p1 = parse_return_dates(frame["DECOM"], file=path, column="DECOM", required=True)
    end, p2 = parse_return_dates(frame["DEC"], file=path, column="DEC", required=False)
    out = pd.DataFrame(
        {
            "child_id": frame["CHILD"].str.strip(),
            "start": start,
            "end": end,
            "reason_new_episode": frame["RNE"].str.strip() if "RNE" in frame else "",
            "legal_status": frame["LS"].str.strip().str.upper(),
        }
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
    return out, p1 + p2


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


def _deduplicate(episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per (child, episode start): a filled end date wins over a blank one (the
    same open episode is in every year's file until it closes)."""
    ordered = episodes.assign(_open=episodes["end"].isna()).sort_values(
        ["child_id", "start", "_open"], kind="stable"
    )
    kept = ordered.drop_duplicates(["child_id", "start"], keep="first")
    return kept.drop(columns="_open").reset_index(drop=True)


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
    >>> read_ssda903(folder / "episodes.csv").episodes[["child_id", "end"]].to_dict("records")
    [{'child_id': '7', 'end': Timestamp('2021-06-30 00:00:00')}]
    """
    problems: list[Problem] = []
    frames = []
    for path in as_paths(episodes):
        frame, found = _episodes(str(path))
        problems += found
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
    return SSDA903(_deduplicate(pd.concat(frames, ignore_index=True)), children)
