"""Progress a person can follow: stages with their elapsed time and how many are left, as
plain lines or a bar; the study announces the stages it runs, the bar counts them."""

from __future__ import annotations

import io

from escalation_model._progress import Stages


def _clock(*times):
    return iter(times).__next__


def test_plain_lines_say_the_time_and_what_is_left():
    out = io.StringIO()
    stages = Stages(3, stream=out, clock=_clock(0.0, 2.0, 5.5, 9.0))
    stages("loading")
    stages.expect(4)  # the plan adds a stage
    stages("fitting")
    stages.write("plan: a line of its own")
    stages("writing")
    assert out.getvalue().splitlines() == [
        "- [   2.0 s] (1 of 3) loading",
        "- [   5.5 s] (2 of 4) fitting",
        "plan: a line of its own",
        "- [   9.0 s] (3 of 4) writing",
    ]


def test_quiet_says_nothing_and_a_bar_counts_the_stages():
    out = io.StringIO()
    quiet = Stages(2, stream=out, quiet=True)
    quiet("loading")
    quiet.write("plan")
    assert out.getvalue() == ""
    bar = Stages(2, stream=out, bar=True)
    bar("loading")
    bar.write("plan: kept apart from the bar")
    bar("fitting")
    bar.close()
    text = out.getvalue()
    assert "2/2 stages" in text and "plan: kept apart from the bar\n" in text
    assert "- [" not in text  # the bar instead of the lines


def test_a_pipe_gets_lines_not_a_bar(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    out = io.StringIO()  # not a terminal
    stages = Stages(1, stream=out)
    stages("loading")
    assert out.getvalue().startswith("- [")


def test_the_study_announces_every_stage_it_runs_and_the_bar_knows_how_many(tmp_path):
    from escalation_model.config import RunConfig
    from escalation_model.study import plan_study, run_study
    from escalation_model.study._study import load_study_data, study_stages

    config = RunConfig.model_validate(
        {
            "data": {"n_families": 4000, "seed": 3},
            "evaluation": {"n_bootstrap": 20},
            "split": {"leave_one_authority_out": False},
            "explain": {"sample_size": 200, "interaction_sample": 0},
            "fairness": {"min_group_size": 20},
        }
    )
    data = load_study_data(config)
    plan = plan_study(config, data)
    said: list[str] = []
    run_study(config, data, plan=plan, progress=said.append)
    assert len(said) == len(study_stages(plan)) == 4  # no transfer check configured
