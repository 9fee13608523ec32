"""A marker file's unit checked against the markers themselves (issue 23: a TRC whose header said metres
but held millimetres built a body 1,757 m tall and ran for 741 s)."""

import numpy as np
import pytest

from musclepose.io.marker_units import checked_units, marker_span_m
from musclepose.io.opensim import read_trc, write_trc
from musclepose.io.opensim.trc import MarkerData


def _markers(scale: float, units: str) -> MarkerData:
    rng = np.random.default_rng(0)
    t = 30
    base = np.array([[0.0, 1.6, 0.0], [0.0, 0.05, 0.1], [0.1, 0.5, -0.1], [-0.1, 1.0, 0.2]])  # head, toe, knee, hip
    pos = (base[None] + 0.01 * rng.standard_normal((t, 4, 3))) * scale
    return MarkerData(None, ["A", "B", "C", "D"], pos, 100.0, np.arange(t) / 100.0, units)


def test_millimetres_labelled_metres_are_converted_with_a_note(tmp_path):
    path = tmp_path / "trial.trc"
    write_trc(path, _markers(1.0, "mm"))  # written in mm
    text = path.read_text().splitlines()
    text[2] = text[2].replace("\tmm\t", "\tm\t")  # the header now lies
    path.write_text("\n".join(text) + "\n")
    read = read_trc(path)
    assert marker_span_m(read.positions) > 100.0  # read as metres: a giant
    fixed, note = checked_units(path, read)
    assert marker_span_m(fixed.positions) == pytest.approx(marker_span_m(_markers(1.0, "mm").positions), rel=1e-6)
    assert fixed.units_in_file == "mm" and "trial.trc" in note and "header says m" in note


def test_a_person_passes_and_what_no_unit_explains_is_left_alone(tmp_path):
    ok = _markers(1.0, "m")
    assert checked_units("x.trc", ok)[1] is None and checked_units("x.trc", ok)[0] is ok
    odd = _markers(1e-7, "m")  # no unit makes a person of it: the fit will say how it matches a body
    assert checked_units(tmp_path / "x.trc", odd) == (odd, None)
