"""Options: every absurd value is refused while the command line is parsed, naming the option, before any work.

The recording given is real (``squats1.mot``) but is never read: a refusal takes milliseconds
and writes nothing. The accepted side is checked too (a valid value is not refused, aliases
and case are normalised).
"""

from __future__ import annotations

import pytest
import typer

from musclepose.catalogue import EXERCISES

from .conftest import assert_refused, cli, leftovers

SQUAT = "mocap/addbiomechanics_expert1/squats1.mot"

CASES = [
    # (command and options, the option the message must name, a word of the problem)
    (["analyze", "{mot}", "--mass", "1e9"], "--mass", "20-300"),
    (["analyze", "{mot}", "--mass", "0"], "--mass", "20-300"),
    (["analyze", "{mot}", "--mass", "nan"], "--mass", "nan"),
    (["analyze", "{mot}", "--mass", "-70"], "--mass", "20-300"),
    (["analyze", "{mot}", "--sex", "robot"], "--sex", "male, female"),
    (["analyze", "{mot}", "--exercise", "dance"], "--exercise", "squat"),
    (["analyze", "{mot}", "--fps", "nan"], "--fps", "nan"),
    (["analyze", "{mot}", "--fps", "-5"], "--fps", "Hz"),
    (["analyze", "{mot}", "--height", "9"], "--height", "0.5-2.6"),
    (["convert", "{mot}", "{tmp}/x.mot", "--mass", "inf"], "--mass", "inf"),
    (["convert", "{mot}", "{tmp}/x.mot", "--fps", "0"], "--fps", "Hz"),
    (["coach", "{mot}", "--temperature", "-1"], "--temperature", "0-5"),
    (["coach", "{mot}", "--temperature", "nan"], "--temperature", "nan"),
    (["coach", "{mot}", "--exercise", "dance"], "--exercise", "catalogue"),
    (["coach", "{mot}", "--mass", "1e9"], "--mass", "20-300"),
    (["body", "export-mjcf", "-o", "{tmp}/b.xml", "--height", "0"], "--height", "0.5-2.6"),
    (["body", "table", "--mass", "1e9"], "--mass", "20-300"),
    (["demo", "--severity", "2"], "--severity", "0-1"),
    (["demo", "--reps", "0"], "--reps", "below 1"),
    (["demo", "--depth", "400"], "--depth", "30-140"),
    (["train", "coach", "--data", "{mot}", "--out", "{tmp}/run", "--lr-lm", "nan"], "--lr-lm", "nan"),
    (["train", "coach", "--data", "{mot}", "--out", "{tmp}/run", "--batch-size", "0"], "--batch-size", "below 1"),
    (["train", "coach", "--data", "{mot}", "--out", "{tmp}/run", "--encoder-epochs", "-1"], "--encoder-epochs", "0"),
    (["evaluate", "coach", "--data", "{mot}", "--split", "holdout"], "--split", "train, val or test"),
    (["simulate", "--out", "{tmp}/d.h5", "--duration", "0"], "--duration", "s"),
    (["simulate", "--out", "{tmp}/d.h5", "--duration", "-1"], "--duration", "s"),
    (["simulate", "--out", "{tmp}/d.h5", "--duration", "1e6"], "--duration", "s"),
    (["simulate", "--out", "{tmp}/d.h5", "--n", "0"], "--n", "below 1"),
]


@pytest.mark.parametrize(("args", "option", "problem"), CASES, ids=[" ".join(c[0][:1] + c[0][-2:]) for c in CASES])
def test_absurd_option_is_refused_before_any_work(refdata, tmp_path, args, option, problem):
    mot = refdata(SQUAT)
    run = cli(*(a.format(mot=mot, tmp=tmp_path) for a in args))
    assert_refused(run, option, problem)
    assert not list(tmp_path.iterdir()), "something was written"
    assert not leftovers(tmp_path)


def test_exercise_names_are_normalised_and_every_catalogue_entry_is_accepted():
    from musclepose.cli._common import check_exercise

    assert check_exercise("Squat") == "squat" and check_exercise("push-up") == "push_up"
    assert all(check_exercise(name) == name for name in EXERCISES)
    with pytest.raises(typer.BadParameter, match="bench_press, bent_over_row"):  # the list, sorted
        check_exercise("dance")


def test_valid_edge_values_pass():
    from musclepose.cli._common import check_fps, check_mass, check_sex, check_temperature

    assert check_mass(20.0) == 20.0 and check_mass(300.0) == 300.0 and check_mass(None) is None
    assert check_sex("Female") == "female" and check_temperature(0.0) == 0.0 and check_fps(1000.0) == 1000.0
