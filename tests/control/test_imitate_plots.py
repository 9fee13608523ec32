"""``musclepose imitate --plot DIR``: the tracking, residual and muscle figures of a real squat."""

import json

import numpy as np
from typer.testing import CliRunner

from musclepose.cli import app

from ._squat import squat_excerpt_mot

runner = CliRunner()


def test_imitate_plots_the_tracking_residual_and_muscles(refdata, tmp_path):
    src = squat_excerpt_mot(refdata("mocap/addbiomechanics_expert1/squats1.mot"), tmp_path, 100)
    figs = tmp_path / "figs"
    r = runner.invoke(app, ["imitate", str(src), "--plot", str(figs), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    names = sorted(p.split("/")[-1] for p in res["figures"])
    assert names == ["muscles.png", "residual.png", "tracking.png"]
    import matplotlib.image as mpimg

    for name in names:
        img = mpimg.imread(figs / name)
        assert img.shape[0] > 300 and img.shape[1] > 600 and np.std(img) > 0.01  # a drawn figure, not a blank
    # No residual forces: no residual figure; a --plot that is a file: one line, exit code 2.
    r = runner.invoke(app, ["imitate", str(src), "--no-residual", "--plot", str(tmp_path / "figs2")])
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "figs2" / "residual.png").exists() and (tmp_path / "figs2" / "tracking.png").exists()
    r = runner.invoke(app, ["imitate", str(src), "--plot", str(src)])
    assert r.exit_code == 2 and "--plot" in r.output


def test_imitate_report_is_one_html_page_with_the_numbers_and_figures(refdata, tmp_path):
    src = squat_excerpt_mot(refdata("mocap/addbiomechanics_expert1/squats1.mot"), tmp_path, 100)
    page = tmp_path / "sim.html"
    r = runner.invoke(app, ["imitate", str(src), "--report", str(page), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    html = page.read_text()
    assert res["report"] == str(page) and html.count('<img src="data:image/png;base64,') == 3
    assert f"{res['joint_rmse_deg']:.2f} °" in html and "did not fall" in html
    assert "http" not in html.replace("http-equiv", "")  # self-contained
    # Not HTML, or a folder that does not exist: one line, exit code 2, before any simulation.
    r = runner.invoke(app, ["imitate", str(src), "--report", str(tmp_path / "sim.png")])
    assert r.exit_code == 2 and "--report" in r.output
    r = runner.invoke(app, ["imitate", str(src), "--report", str(tmp_path / "nope" / "sim.html")])
    assert r.exit_code == 2 and "nope" in r.output
