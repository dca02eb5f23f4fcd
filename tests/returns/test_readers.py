"""Readers of SSDA903 and the CIN census, on tiny hand-made files and the published samples."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from escalation_model.returns import (
    SpellDefinitions,
    read_cin_census,
    read_ssda903,
    statutory_spells,
)
from escalation_model.schema import SchemaError

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "returns"

EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,DEC\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def test_episodes_in_both_date_formats_and_an_open_episode_repeated_across_years(tmp_path):
    y2020 = _write(
        tmp_path,
        "2020-episodes.csv",
        EPISODES + "101,01/05/2019,S,C2,N1,U1,15/08/2019\n"  # closed in the year
        "102,2019-11-02,S,C2,N1,U1,\n",  # ISO date, still open at 31 March
    )
    y2021 = _write(
        tmp_path,
        "2021-episodes.csv",
        EPISODES + "102,02/11/2019,S,C2,N1,U1,30/06/2020\n"  # the same episode, now closed
        "103,10/01/2021,S,V3,N1,U1,12/01/2021\n",  # a short break
    )
    s = read_ssda903([y2020, y2021])
    e = s.episodes.set_index("child_id")
    assert len(s.episodes) == 3  # the repeated episode once
    assert str(e.loc["102", "end"].date()) == "2020-06-30"  # with the end a later file has
    assert str(e.loc["101", "start"].date()) == "2019-05-01"
    spells = statutory_spells(s)
    assert set(spells.child_id) == {"101", "102"}  # the short break is not entry into care
    with_breaks = statutory_spells(s, definitions=SpellDefinitions(exclude_short_breaks=False))
    assert "103" in set(with_breaks.child_id)


def test_consecutive_episodes_are_one_period_of_care(tmp_path):
    path = _write(
        tmp_path,
        "episodes.csv",
        EPISODES + "7,01/01/2020,S,C2,N1,U1,01/03/2020\n"
        "7,01/03/2020,P,C2,N1,U4,01/06/2020\n"  # a placement change: the same period
        "7,01/01/2021,S,C2,N1,U1,\n",  # back into care: a new period
    )
    spells = statutory_spells(read_ssda903(path))
    assert [str(d.date()) for d in spells.start] == ["2020-01-01", "2021-01-01"]
    assert str(spells.end[0].date()) == "2020-06-01" and pd.isna(spells.end[1])


def test_every_problem_in_every_file_at_once(tmp_path):
    bad_dates = _write(
        tmp_path,
        "a.csv",
        EPISODES + "1,31/02/2020,S,C2,N1,U1,\n2,,S,C2,N1,U1,\n3,2020/13/01,S,C2,N1,U1,\n",
    )
    no_dec = _write(tmp_path, "b.csv", "CHILD,DECOM,LS\n1,01/01/2020,C2\n")
    binary = tmp_path / "c.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage\x00")
    with pytest.raises(SchemaError) as info:
        read_ssda903([bad_dates, no_dec, binary])
    text = str(info.value)
    assert text.startswith("4 problem(s)")
    assert "a.csv, column 'DECOM': dates that are neither DD/MM/YYYY nor YYYY-MM-DD" in text
    assert "'31/02/2020'" in text and "(row 2, 4)" in text  # examples and file rows
    assert "blank dates where every row needs one in 1 row(s) (row 3)" in text
    assert "b.csv, column 'DEC': a column every SSDA903 episodes file has is missing" in text
    assert "c.csv" in text and "Traceback" not in text
    assert text.count("Fix:") == len(info.value.problems)


def test_birth_dates_are_never_quoted(tmp_path):
    header = _write(tmp_path, "h.csv", "CHILD,SEX,DOB,ETHNIC\n9,1,12/34/2015,WBRI\n")
    episodes = _write(tmp_path, "e.csv", EPISODES + "9,01/01/2020,S,C2,N1,U1,\n")
    with pytest.raises(SchemaError) as info:
        read_ssda903(episodes, header)
    assert "12/34/2015" not in str(info.value) and "column 'DOB'" in str(info.value)


CIN = """<?xml version="1.0" encoding="utf-8"?>
<Message>
  <Header><CollectionDetails><Collection>CIN</Collection><Year>{year}</Year>
    <ReferenceDate>{year}-03-31</ReferenceDate></CollectionDetails></Header>
  <Children>{children}</Children>
</Message>
"""


def _child(cid: str, *details: str, sex: str = "<GenderCurrent>1</GenderCurrent>") -> str:
    return (
        f"<Child><ChildIdentifiers><LAchildID>{cid}</LAchildID>"
        f"<PersonBirthDate>2012-05-01</PersonBirthDate>{sex}</ChildIdentifiers>"
        + "".join(details)
        + "</Child>"
    )


def _detail(referral: str, nfa: str = "false", *, closure: str = "", plans: str = "") -> str:
    close = f"<CINclosureDate>{closure}</CINclosureDate>" if closure else ""
    return (
        f"<CINdetails><CINreferralDate>{referral}</CINreferralDate>{close}"
        f"<ReferralNFA>{nfa}</ReferralNFA>{plans}</CINdetails>"
    )


def test_cin_census_across_years_with_an_unknown_element_and_sex_from_2026(tmp_path):
    cp = "<ChildProtectionPlans><CPPstartDate>2025-02-01</CPPstartDate></ChildProtectionPlans>"
    y2025 = _write(
        tmp_path,
        "cin-2025.xml",
        CIN.format(
            year=2025,
            children=_child("A", _detail("2024-12-01", plans=cp))
            + _child("B", _detail("2024-10-01", "true", closure="2024-10-02")),
        ),
    )
    y2026 = _write(
        tmp_path,
        "cin-2026.xml",
        CIN.format(
            year=2026,
            children=_child(
                "A",
                _detail("2024-12-01", closure="2025-06-30", plans=cp)
                + "<PreProceedingsandFGDM><Anything>1</Anything></PreProceedingsandFGDM>",
                sex="<Sex>F</Sex>",
            )
            + _child("C", _detail("01/02/2026", "1")),
        ),
    )
    census = read_cin_census([y2025, y2026])
    assert [str(d.date()) for d in census.reference_dates] == ["2025-03-31", "2026-03-31"]
    referrals = census.referrals.set_index("child_id")
    assert len(census.referrals) == 3  # A's referral is in both years: kept once...
    assert str(referrals.loc["A", "closure_date"].date()) == "2025-06-30"  # ...closed
    assert bool(referrals.loc["C", "no_further_action"])  # "1" is true
    assert census.children.set_index("child_id").loc["A", "sex"] == "F"
    spells = statutory_spells(cin=census)
    assert spells.groupby("level").size().to_dict() == {"child_in_need": 1, "child_protection": 1}
    plans = statutory_spells(cin=census, definitions=SpellDefinitions(child_in_need="plans"))
    assert "child_in_need" not in set(plans.level)  # nobody had a CIN plan


@pytest.mark.parametrize(
    "content",
    [
        "not xml at all",
        "<Other><Children/></Other>",
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<Message><Children/></Message>",
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<Message><Children><Child><ChildIdentifiers><LAchildID>&x;</LAchildID>"
        "</ChildIdentifiers></Child></Children></Message>",
    ],
    ids=["not-xml", "not-cin", "entity-expansion", "external-entity"],
)
def test_a_file_that_is_not_a_cin_census_is_one_clear_problem(tmp_path, content):
    path = _write(tmp_path, "cin.xml", content)
    with pytest.raises(SchemaError, match="cin.xml, column '\\(whole file\\)'.*Fix:"):
        read_cin_census(path)


def test_an_unreadable_cin_date_names_the_element_the_child_and_examples(tmp_path):
    path = _write(
        tmp_path, "cin.xml", CIN.format(year=2022, children=_child("A", _detail("2021-02-30")))
    )
    with pytest.raises(SchemaError) as info:
        read_cin_census(path)
    text = str(info.value)
    assert "column 'referral_date'" in text and "(Child number 1)" in text
    assert "'2021-02-30'" in text


@pytest.mark.skipif(not SAMPLES.exists(), reason="the published sample returns are not here")
def test_the_published_sample_returns_are_read():
    d = SAMPLES / "ssda903-cs-demand-model"
    s = read_ssda903(sorted(d.glob("*-episodes.csv")), sorted(d.glob("*-header.csv")))
    assert len(s.children) == 820
    assert s.episodes["start"].notna().all()
    assert not s.episodes.duplicated(["child_id", "start"]).any()
    for dirty in ("liiatools", "liiatools-dagster"):
        assert len(read_ssda903(SAMPLES / dirty / "SSDA903_2020_episodes.csv").episodes) == 5
    census = read_cin_census(SAMPLES / "liiatools" / "cin-2022.xml")
    assert len(census.cp_plans) == 1 and len(census.referrals) == 1
    spells = statutory_spells(s, census)
    assert set(spells.level) == {"looked_after", "child_protection", "child_in_need"}
    assert isinstance(spells.loc[0, "start"], pd.Timestamp)
    assert len(census.notes) == 8  # the sample is dated 1966-1971: kept, and noted
    assert "more than 26 years before" in census.notes[0].rule


def _looked_after_by_episode(folder: Path, on: pd.Timestamp) -> int:
    """Children looked after on a date, counted straight from the episode rows of every
    file (no joining, no deduplication): an episode covers the date if it started by it
    and ended after it, or was open at the 31 March of the file that holds it."""
    covering = set()
    for path in sorted(folder.glob("*-episodes.csv")):
        e = pd.read_csv(path, dtype=str, keep_default_na=False)
        start = pd.to_datetime(e["DECOM"], format="%d/%m/%Y")
        end = pd.to_datetime(e["DEC"].replace("", None), format="%d/%m/%Y")
        latest = start.max()
        year_end = pd.Timestamp(year=latest.year + (latest.month >= 4), month=3, day=31)
        care = ~e["LS"].isin(["V3", "V4"])
        covers = (start <= on) & ((end > on) | (end.isna() & (on <= year_end)))
        covering |= set(e.loc[care & covers, "CHILD"])
    return len(covering)


@pytest.mark.skipif(not SAMPLES.exists(), reason="the published sample returns are not here")
def test_children_looked_after_each_31_march_match_a_count_from_their_episodes():
    """The published SSDA903 samples (2017-18 to 2021-22): 466, 288, 181, 119 and 55
    children in care on each 31 March, from the library's periods and from the rows."""
    d = SAMPLES / "ssda903-cs-demand-model"
    spells = statutory_spells(read_ssda903(sorted(d.glob("*-episodes.csv"))))
    counts = []
    for year in range(2018, 2023):
        on = pd.Timestamp(f"{year}-03-31")
        known_open = spells["end"].isna() & (spells["open_as_of"] >= on)
        in_care = (spells["start"] <= on) & ((spells["end"] > on) | known_open)
        counts.append(spells.loc[in_care, "child_id"].nunique())
        assert counts[-1] == _looked_after_by_episode(d, on)
    assert counts == [466, 288, 181, 119, 55]


def test_early_help_in_the_council_s_own_names_uk_dates_and_by_person(tmp_path):
    from escalation_model.returns import early_help_families, read_early_help

    (tmp_path / "eh1.csv").write_text(
        "Client,EH Start,EH End\np1,03/02/2021,\np2,2021-05-01,01/06/2021\n"
    )
    (tmp_path / "eh2.csv").write_text("Client,EH Start,EH End\np1,03/02/2021,01/03/2021\n")
    spells = read_early_help(
        [tmp_path / "eh1.csv", tmp_path / "eh2.csv"],
        columns={"Client": "person_id", "EH Start": "start", "EH End": "end"},
    )
    assert len(spells) == 2  # the same spell in two exports kept once (the later)
    assert str(spells.loc[spells.person_id == "p1", "end"].iloc[0].date()) == "2021-03-01"
    members = pd.DataFrame({"family_id": ["F", "G"], "person_id": ["p1", "p2"]})
    families = early_help_families(spells, members)
    assert sorted(families["family_id"]) == ["F", "G"]


def test_early_help_problems_name_the_file_and_the_columns_it_has(tmp_path):
    from escalation_model.returns import read_early_help

    (tmp_path / "a.csv").write_text("Ref,When\nF1,2021-01-01\n")
    (tmp_path / "b.csv").write_text("family_id,start\nF1,31/02/2021\nF2,soon\n")
    with pytest.raises(SchemaError) as info:
        read_early_help([tmp_path / "a.csv", tmp_path / "b.csv"])
    text = str(info.value)
    assert text.startswith("2 problem(s)")
    assert "a.csv, column 'family_id or person_id, start'" in text and "'Ref', 'When'" in text
    assert "b.csv, column 'start'" in text and "'soon'" in text and "Fix:" in text


def test_a_file_of_the_wrong_kind_is_named_before_any_work(tmp_path):
    """uasc.csv given as the header, a CIN census or a workbook given as episodes."""
    uasc = _write(tmp_path, "uasc.csv", "CHILD,SEX,DOB,DUC\n1,1,01/01/2010,01/01/2028\n")
    episodes = _write(tmp_path, "e.csv", EPISODES + "1,01/01/2020,S,C2,N1,U1,\n")
    xml = _write(tmp_path, "cin.csv", '<?xml version="1.0"?>\n<Message></Message>\n')
    xlsx = tmp_path / "book.csv"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(SchemaError) as info:
        read_ssda903([episodes, xml, xlsx], uasc)
    text = str(info.value)
    assert (
        "uasc.csv, column '(whole file)': this is not an SSDA903 header file: its columns" in text
    )
    assert "are the uasc file's. Fix: pass the header file here" in text
    assert "cin.csv" in text and "is XML (a CIN census is XML: pass it as cin_census)" in text
    assert "book.csv" in text and "a zip archive (an .xlsx workbook is one" in text
    assert "missing" not in text  # not reported as missing columns
