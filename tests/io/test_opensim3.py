"""OpenSim 3.x models and coordinate couplings (LinearFunction, Constant, SimmSpline, ...).

References: OpenSim 4 models in shared/ (``generic.osim``, Rajagopal-based with a mirrored left
hip, ``LinearFunction(-1, 0)``; gait10dof18musc's ``subject01.osim`` with SimmSpline knee
translations) rewritten in the OpenSim 3 layout (:mod:`tests.io.osim3`) must read exactly like
the originals; a hand-built OpenSim 3 model whose foot positions follow by hand from its
geometry; analytic functions (a cubic spline through a cubic's points is that cubic).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from scipy.interpolate import CubicSpline

from musclepose.body import forward_kinematics
from musclepose.io import FormatError
from musclepose.io.opensim import OpenSimTable, read_osim_bodies, read_osim_markers, read_table
from musclepose.io.opensim.coords import motion_from_opensim, opensim_from_motion, read_osim_coordinate_axes
from musclepose.io.opensim.functions import read_function
from musclepose.io.opensim.joints import read_osim_joints
from musclepose.io.opensim.model import osim_default_frames, osim_marker_set

from .osim3 import to_opensim3

GENERIC = "mocap/addbiomechanics_expert1/generic.osim"
SQUAT = "mocap/addbiomechanics_expert1/squats1.mot"
GAIT_OSIM = "kinetics/opensim_gait10dof18musc/subject01.osim"


# ============================================================================ functions
def _fn(xml: str):
    el = ET.fromstring(f"<TransformAxis name='rotation1'><coordinates>q</coordinates><axis>0 0 1</axis>{xml}"
                       "</TransformAxis>")  # fmt: skip
    return read_function(el, "model.osim")


def _xy(x, y) -> str:
    return f"<x>{' '.join(map(str, x))}</x><y>{' '.join(map(str, y))}</y>"


def test_functions_in_both_layouts_against_analytic_values():
    q = np.linspace(-2.5, 2.5, 41)
    # OpenSim 4 writes the function as the axis's child, OpenSim 3 inside <function>.
    for wrap in (lambda f: f, lambda f: f"<function>{f}</function>"):
        lin = _fn(wrap("<LinearFunction name='function'><coefficients> -1 0.25</coefficients></LinearFunction>"))
        np.testing.assert_array_equal(lin(q), -q + 0.25)
        assert lin.derivative(0.7) == -1.0 and lin.is_linear
        const = _fn(wrap("<Constant><value>0.02</value></Constant>"))
        assert np.all(const(q) == 0.02) and const.derivative(1.0) == 0.0
    # SimmSpline (Forsythe-Malcolm-Moler) reproduces a cubic exactly, inside its knots; outside it
    # continues along the end tangent, as OpenSim's does.
    knots = np.array(
        [-2.0944, -1.74533, -1.39626, -1.0472, -0.698132, -0.349066, -0.174533, 0.197344, 0.490178, 2.0944]
    )

    def cubic(t):
        return 0.05 * t**3 - 0.2 * t**2 + 0.9 * t - 0.03

    spl = _fn(f"<function><MultiplierFunction><function><SimmSpline>{_xy(knots, cubic(knots))}</SimmSpline>"
              "</function><scale>1.5</scale></MultiplierFunction></function>")  # fmt: skip
    inside = q[(q > knots[0]) & (q < knots[-1])]
    np.testing.assert_allclose(spl(inside), 1.5 * cubic(inside), atol=1e-12)
    np.testing.assert_allclose(spl.derivative(0.3), 1.5 * (0.15 * 0.09 - 0.4 * 0.3 + 0.9), atol=1e-12)
    end_slope = 0.15 * knots[-1] ** 2 - 0.4 * knots[-1] + 0.9
    assert spl(2.5) == pytest.approx(1.5 * (cubic(knots[-1]) + (2.5 - knots[-1]) * end_slope), abs=1e-12)
    # Natural cubic spline: scipy's; piecewise linear: straight lines, extended at the ends.
    x, y = np.array([-1.0, 0.0, 0.5, 2.0]), np.array([0.3, -0.1, 0.4, 0.2])
    nat = _fn(f"<NaturalCubicSpline>{_xy(x, y)}</NaturalCubicSpline>")
    np.testing.assert_allclose(
        nat(np.linspace(-1, 2, 13)), CubicSpline(x, y, bc_type="natural")(np.linspace(-1, 2, 13))
    )
    pl = _fn(f"<PiecewiseLinearFunction>{_xy(x, y)}</PiecewiseLinearFunction>")
    assert pl(0.25) == pytest.approx(0.15) and pl(3.0) == pytest.approx(0.2 - 0.2 / 1.5)


def test_unsupported_function_names_the_model_line_and_axis(tmp_path):
    text = OSIM3_LEGS.format(add_l="<StepFunction><start_time>0</start_time></StepFunction>", **_DEFAULTS)
    path = tmp_path / "legs.osim"
    path.write_text(text)
    line = text[: text.index("<StepFunction")].count("\n") + 1
    with pytest.raises(
        FormatError, match=rf"legs\.osim: line {line}, field 'hip_l\.rotation2': unsupported .*StepFunction"
    ):
        read_osim_joints(path)


# ============================================================================ OpenSim 3 copies of the 4 models
@pytest.fixture(scope="module")
def copies(refdata, tmp_path_factory):
    folder = tmp_path_factory.mktemp("osim3")
    return {
        name: (refdata(rel), to_opensim3(refdata(rel), folder / f"{name}_v3.osim"))
        for name, rel in (("generic", GENERIC), ("gait", GAIT_OSIM))
    }


@pytest.mark.parametrize("name", ["generic", "gait"])
def test_opensim3_copy_reads_like_the_opensim4_model(copies, name):
    v4, v3 = copies[name]
    assert 'Version="30000"' in v3.read_text()[:200] and "<JointSet" not in v3.read_text()
    f4, f3 = osim_default_frames(v4), osim_default_frames(v3)
    assert set(f4) == set(f3)
    for body, (r, p) in f4.items():
        np.testing.assert_allclose(f3[body][0], r, atol=1e-12, err_msg=body)
        np.testing.assert_allclose(f3[body][1], p, atol=1e-12, err_msg=body)
    a4, a3 = read_osim_coordinate_axes(v4), read_osim_coordinate_axes(v3)
    assert set(a4) == set(a3)
    for c, ax in a4.items():
        np.testing.assert_allclose(a3[c].axis, ax.axis, atol=1e-12, err_msg=c)
        assert (a3[c].joint, a3[c].kind, a3[c].range) == (ax.joint, ax.kind, ax.range)
    b4, b3 = read_osim_bodies(v4), read_osim_bodies(v3)
    assert {k: (b.parent, b.mass) for k, b in b4.items()} == {k: (b.parent, b.mass) for k, b in b3.items()}
    for k, b in b4.items():
        np.testing.assert_array_equal(b3[k].inertia, b.inertia)
    m4, m3 = read_osim_markers(v4), read_osim_markers(v3)
    assert {k: (b, loc.tolist()) for k, (b, loc) in m4.items()} == {k: (b, loc.tolist()) for k, (b, loc) in m3.items()}
    body4, set4, _ = osim_marker_set(v4)
    body3, set3, _ = osim_marker_set(v3)
    assert body3.lengths == body4.lengths
    np.testing.assert_allclose(set3.local, set4.local, atol=1e-12)


def test_opensim3_mirrored_left_hip_keeps_its_sign_on_real_squats(copies, refdata):
    # generic.osim's left hip turns by LinearFunction(-1, 0) about +X. Read from the OpenSim 3
    # copy (function inside <function>), the squats map exactly as from the original.
    table = read_table(refdata(SQUAT))
    v4, v3 = copies["generic"]
    m4, m3 = motion_from_opensim(table, osim_path=v4), motion_from_opensim(table, osim_path=v3)
    assert m3.metadata["opensim"]["signs"]["hip_adduction_l"] == 1.0
    assert m3.metadata["opensim"]["signs"]["hip_rotation_l"] == 1.0
    torch.testing.assert_close(m3.q, m4.q, rtol=0, atol=1e-12)


# ============================================================================ a hand-built OpenSim 3 model
OSIM3_LEGS = """<?xml version="1.0" encoding="UTF-8"?>
<OpenSimDocument Version="30000">
<Model name="legs3">
<BodySet><objects>
<Body name="ground"><mass>0</mass><mass_center>0 0 0</mass_center><Joint/></Body>
<Body name="pelvis"><mass>10</mass><mass_center>-0.07 0 0</mass_center>
 <inertia_xx>0.1</inertia_xx><inertia_yy>0.1</inertia_yy><inertia_zz>0.05</inertia_zz>
 <Joint><CustomJoint name="ground_pelvis"><parent_body>ground</parent_body>
  <location_in_parent>0 0 0</location_in_parent><orientation_in_parent>0 0 0</orientation_in_parent>
  <location>0 0 0</location><orientation>0 0 0</orientation>
  <CoordinateSet><objects>
   <Coordinate name="pelvis_tilt"><range>-1.57 1.57</range></Coordinate>
   <Coordinate name="pelvis_tx"><range>-5 5</range></Coordinate>
   <Coordinate name="pelvis_ty"><range>-1 2</range></Coordinate>
  </objects></CoordinateSet>
  <SpatialTransform>
   <TransformAxis name="rotation1"><function><LinearFunction><coefficients>1 0</coefficients></LinearFunction>
    </function><coordinates>pelvis_tilt</coordinates><axis>0 0 1</axis></TransformAxis>
   <TransformAxis name="translation1"><function><LinearFunction><coefficients>1 0</coefficients></LinearFunction>
    </function><coordinates>pelvis_tx</coordinates><axis>1 0 0</axis></TransformAxis>
   <TransformAxis name="translation2"><function><LinearFunction><coefficients>1 0</coefficients></LinearFunction>
    </function><coordinates>pelvis_ty</coordinates><axis>0 1 0</axis></TransformAxis>
   <TransformAxis name="translation3"><function><Constant><value>{root_z}</value></Constant></function>
    <coordinates></coordinates><axis>0 0 1</axis></TransformAxis>
  </SpatialTransform></CustomJoint></Joint></Body>
<Body name="femur_r"><mass>8</mass><mass_center>0 -0.17 0</mass_center>
 <Joint><CustomJoint name="hip_r"><parent_body>pelvis</parent_body>
  <location_in_parent>-0.05 -0.08 0.09</location_in_parent><orientation_in_parent>0 0 0</orientation_in_parent>
  <location>0 0 0</location><orientation>0 0 0</orientation>
  <CoordinateSet><objects><Coordinate name="hip_flexion_r"><range>-0.5 2</range></Coordinate></objects></CoordinateSet>
  <SpatialTransform>
   <TransformAxis name="rotation1"><function>{flex_r}</function>
    <coordinates>hip_flexion_r</coordinates><axis>0 0 1</axis></TransformAxis>
  </SpatialTransform></CustomJoint></Joint></Body>
<Body name="tibia_r"><mass>3</mass><mass_center>0 -0.18 0</mass_center>
 <Joint><CustomJoint name="knee_r"><parent_body>femur_r</parent_body>
  <location_in_parent>0 -0.4 0</location_in_parent><orientation_in_parent>0 0 0</orientation_in_parent>
  <location>0 0 0</location><orientation>0 0 0</orientation>
  <CoordinateSet><objects><Coordinate name="knee_angle_r"><range>-2.0944 0.1745</range></Coordinate></objects>
  </CoordinateSet>
  <SpatialTransform>
   <TransformAxis name="rotation1"><function>{knee_r}</function>
    <coordinates>knee_angle_r</coordinates><axis>0 0 1</axis></TransformAxis>
  </SpatialTransform></CustomJoint></Joint></Body>
<Body name="talus_r"><mass>0.1</mass><mass_center>0 0 0</mass_center>
 <Joint><PinJoint name="ankle_r"><parent_body>tibia_r</parent_body>
  <location_in_parent>0 -0.4 0</location_in_parent><orientation_in_parent>0 0 0</orientation_in_parent>
  <location>0 0 0</location><orientation>0 0 0</orientation>
  <CoordinateSet><objects><Coordinate name="ankle_angle_r"><range>-0.7 0.5</range></Coordinate></objects>
  </CoordinateSet></PinJoint></Joint></Body>
<Body name="femur_l"><mass>8</mass><mass_center>0 -0.17 0</mass_center>
 <Joint><CustomJoint name="hip_l"><parent_body>pelvis</parent_body>
  <location_in_parent>-0.05 -0.08 -0.09</location_in_parent><orientation_in_parent>0 0 0</orientation_in_parent>
  <location>0 0 0</location><orientation>0 0 0</orientation>
  <CoordinateSet><objects>
   <Coordinate name="hip_flexion_l"><range>-0.5 2</range></Coordinate>
   <Coordinate name="hip_adduction_l"><range>-0.87 0.52</range></Coordinate>
   <Coordinate name="hip_rotation_l"><range>-0.7 0.7</range></Coordinate>
  </objects></CoordinateSet>
  <SpatialTransform>
   <TransformAxis name="rotation1"><function><LinearFunction><coefficients>1 0</coefficients></LinearFunction>
    </function><coordinates>hip_flexion_l</coordinates><axis>0 0 1</axis></TransformAxis>
   <TransformAxis name="rotation2"><function>{add_l}</function>
    <coordinates>hip_adduction_l</coordinates><axis>1 0 0</axis></TransformAxis>
   <TransformAxis name="rotation3"><function><LinearFunction><coefficients>-1 0</coefficients></LinearFunction>
    </function><coordinates>hip_rotation_l</coordinates><axis>0 1 0</axis></TransformAxis>
  </SpatialTransform></CustomJoint></Joint></Body>
<Body name="tibia_l"><mass>3</mass><mass_center>0 -0.18 0</mass_center>
 <Joint><CustomJoint name="knee_l"><parent_body>femur_l</parent_body>
  <location_in_parent>0 0 0</location_in_parent><orientation_in_parent>0 0 0</orientation_in_parent>
  <location>0 0 0</location><orientation>0 0 0</orientation>
  <CoordinateSet><objects><Coordinate name="knee_angle_l"><range>-2.0944 0.1745</range></Coordinate></objects>
  </CoordinateSet>
  <SpatialTransform>
   <TransformAxis name="rotation1"><function><LinearFunction><coefficients>1 0</coefficients></LinearFunction>
    </function><coordinates>knee_angle_l</coordinates><axis>0 0 1</axis></TransformAxis>
   <TransformAxis name="translation2"><function><Constant><value>-0.4</value></Constant></function>
    <coordinates></coordinates><axis>0 1 0</axis></TransformAxis>
  </SpatialTransform></CustomJoint></Joint></Body>
<Body name="talus_l"><mass>0.1</mass><mass_center>0 0 0</mass_center>
 <Joint><PinJoint name="ankle_l"><parent_body>tibia_l</parent_body>
  <location_in_parent>0 -0.4 0</location_in_parent><orientation_in_parent>0 0 0</orientation_in_parent>
  <location>0 0 0</location><orientation>0 0 0</orientation>
  <CoordinateSet><objects><Coordinate name="ankle_angle_l"><range>-0.7 0.5</range></Coordinate></objects>
  </CoordinateSet></PinJoint></Joint></Body>
</objects></BodySet>
<MarkerSet><objects>
 <Marker name="RASI"><body>pelvis</body><location>0.02 0 0.12</location></Marker>
 <Marker name="LASI"><body>pelvis</body><location>0.02 0 -0.12</location></Marker>
 <Marker name="RKNE"><body>femur_r</body><location>0 -0.4 0.05</location></Marker>
 <Marker name="LKNE"><body>femur_l</body><location>0 -0.4 -0.05</location></Marker>
 <Marker name="RANK"><body>tibia_r</body><location>0 -0.4 0.04</location></Marker>
</objects></MarkerSet>
</Model>
</OpenSimDocument>
"""
_LINEAR = "<LinearFunction><coefficients>{a} {b}</coefficients></LinearFunction>"
_DEFAULTS = {"root_z": "0", "flex_r": _LINEAR.format(a=1, b=0), "knee_r": _LINEAR.format(a=1, b=0)}


def _legs(tmp_path, **over) -> str:
    path = tmp_path / "legs3.osim"
    path.write_text(OSIM3_LEGS.format(**{**_DEFAULTS, "add_l": _LINEAR.format(a=-1, b=0), **over}))
    return path


def _rot(axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]), "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]  # fmt: skip


def _table(rows: list[dict[str, float]]) -> OpenSimTable:
    cols = ["time", *rows[0]]
    data = np.array([[0.01 * k, *(r[c] for c in cols[1:])] for k, r in enumerate(rows)])
    return OpenSimTable(None, cols, data, True, {})


def _feet(path, rows):
    """Our ankle centres (foot origins) for OpenSim coordinate rows (degrees, m), on the model's body."""
    body, _, _ = osim_marker_set(path)
    motion = motion_from_opensim(_table(rows), body, osim_path=path)
    fk = forward_kinematics(body, motion.q)
    return {s: fk.origins[:, body.segment_index(f"foot_{s}")].numpy() for s in "rl"}, motion


POSES = [  # hip flexion, adduction, internal rotation, knee (negative: flexed), pelvis tilt (deg)
    (0.0, 20.0, 0.0, 0.0, 0.0),
    (0.0, -25.0, 0.0, 0.0, 0.0),
    (30.0, 15.0, 25.0, -60.0, 0.0),
    (-10.0, 10.0, -20.0, -30.0, 12.0),
]


def test_mirrored_left_hip_puts_the_foot_where_the_model_does(tmp_path):
    # Hand-built OpenSim 3 model: left hip rotation2 = LinearFunction(-1, 0) about +X, rotation3
    # = LinearFunction(-1, 0) about +Y (the mirrored left side of Rajagopal/gait2392), knee
    # about +Z with flexion negative, thigh and shank 0.40 m (the left knee by a Constant).
    # By hand, OpenSim puts the left ankle at
    #   p_pelvis + Rz(tilt) [hip_l + Rz(f) Rx(-a) Ry(-r) ((0, -0.4, 0) + Rz(k) (0, -0.4, 0))].
    path = _legs(tmp_path)
    rows = [{"pelvis_tilt": t, "pelvis_tx": 0.3, "pelvis_ty": 0.95, "hip_flexion_l": f, "hip_adduction_l": a,
             "hip_rotation_l": r, "knee_angle_l": k} for f, a, r, k, t in POSES]  # fmt: skip
    feet, motion = _feet(path, rows)
    for (f, a, r, k, t), ours in zip(POSES, feet["l"], strict=True):
        f, a, r, k, t = np.radians([f, a, r, k, t])
        hip = np.array([-0.05, -0.08, -0.09])
        leg = _rot("z", f) @ _rot("x", -a) @ _rot("y", -r) @ (np.array([0, -0.4, 0]) + _rot("z", k) @ [0, -0.4, 0])
        expected = np.array([0.3, 0.95, 0.0]) + _rot("z", t) @ (hip + leg)
        np.testing.assert_allclose(ours, expected, atol=1e-3, err_msg=f"pose {np.degrees([f, a, r, k])}")
    # Adduction carries the left foot medially (+z, towards the right), by 0.8 sin(20 deg) = 27 cm.
    assert feet["l"][0, 2] - (-0.09) == pytest.approx(0.8 * np.sin(np.radians(20)), abs=1e-3)
    assert motion.metadata["opensim"]["signs"]["hip_adduction_l"] == 1.0


def test_scaled_offset_and_spline_couplings_are_honoured(tmp_path):
    # Right hip flexion by LinearFunction(0.5, 0.1); right knee by a SimmSpline through a cubic's
    # points (so its value is that cubic); the pelvis 2 cm to the right by a Constant.
    knots = np.linspace(-2.0944, 0.1745, 9)

    def cubic(t):
        return t + 0.05 * t**3

    path = _legs(tmp_path, root_z="0.02", flex_r=_LINEAR.format(a=0.5, b=0.1),
                 knee_r=f"<SimmSpline>{_xy(knots, cubic(knots))}</SimmSpline>")  # fmt: skip
    poses = [(40.0, -70.0), (-20.0, -5.0), (90.0, -110.0)]
    rows = [{"pelvis_tx": 0.0, "pelvis_ty": 1.0, "hip_flexion_r": f, "knee_angle_r": k} for f, k in poses]
    feet, motion = _feet(path, rows)
    for (f, k), ours in zip(poses, feet["r"], strict=True):
        hip_angle, knee_angle = 0.5 * np.radians(f) + 0.1, cubic(np.radians(k))
        expected = (
            [0.0, 1.0, 0.02]
            + np.array([-0.05, -0.08, 0.09])
            + _rot("z", hip_angle) @ (np.array([0, -0.4, 0]) + _rot("z", knee_angle) @ [0, -0.4, 0])
        )
        np.testing.assert_allclose(ours, expected, atol=1e-3, err_msg=f"pose {f, k}")
    info = motion.metadata["opensim"]
    assert info["couplings"]["hip_flexion_r"] == {"function": "LinearFunction", "scale": 0.5, "offset": 0.1}
    assert info["couplings"]["knee_angle_r"]["function"] == "SimmSpline" and info["root_offset_m"] == [0, 0, 0.02]
    # The inverse mapping undoes every coupling.
    back = opensim_from_motion(motion)
    for c in ("hip_flexion_r", "knee_angle_r", "pelvis_tx", "pelvis_ty"):
        np.testing.assert_allclose(back[c], [r[c] for r in rows], atol=1e-4, err_msg=c)
