"""Joint moments with ground reactions estimated from the motion against those with the force plates.

Same kinematics, same settings, two sources of ground reaction
(:func:`musclepose.evaluation.kinetics.estimated_vs_plates`): OpenSim's example treadmill walk
(its own IK on the scaled model's body) and the Vicon Plug-in Gait overground walk. The plates
are the reference; where one foot stands, the estimate is fixed by the body's dynamics, so its
disagreement there is bounded by what the plate solution leaves unexplained at the root.
"""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.evaluation.kinetics import estimated_vs_plates
from musclepose.io.c3d import read_c3d
from musclepose.io.loads import c3d_loads, opensim_loads
from musclepose.io.opensim import read_osim_bodies, read_table
from musclepose.io.opensim.coords import motion_from_opensim
from musclepose.io.opensim.model import osim_marker_set
from musclepose.io.plugin_gait import pig_motion
from musclepose.motion.kinetics import compute_kinetics

GAIT = "kinetics/opensim_gait10dof18musc/"


@pytest.fixture(scope="module")
def treadmill(refdata):
    osim = refdata(GAIT + "subject01.osim")
    mass = sum(b.mass for b in read_osim_bodies(osim).values())
    body, _, _ = osim_marker_set(osim, mass_kg=mass)
    motion = motion_from_opensim(read_table(refdata(GAIT + "subject01_walk_IK.mot")), body, osim_path=osim)
    return motion, opensim_loads(refdata(GAIT + "subject01_walk_grf.xml"))


def test_estimated_moments_follow_the_plates_on_the_treadmill_walk(treadmill):
    motion, loads = treadmill
    rows, _, notes = estimated_vs_plates(motion, loads)
    assert "moving floor (treadmill belt) detected: 1.13 m/s" in notes[0]
    # Measured (r all frames / without the first and last 0.1 s), right then left:
    # hip 0.889/0.913, 0.929/0.944; knee 0.923/0.925, 0.931/0.947; ankle 0.941/0.954, 0.950/0.954.
    for row in rows:
        assert row.r_inner >= 0.9, row
        assert row.r >= 0.88, row
        # In single support the estimate differs from the plates by no more than the plate
        # solution's own root residual (RMS 0.167 N m/kg; hip, knee, ankle RMSE 0.08-0.19).
        assert row.rmse_single <= 1.2 * row.residual_single, row


def test_a_static_floor_on_the_treadmill_loses_the_stance_feet(treadmill):
    # Without the belt the stance foot slides backwards at 1.1 m/s, so it reads as swing: the
    # moments no longer follow the plates (measured r 0.00-0.27). This is why compute_kinetics
    # detects a moving floor ("auto").
    motion, loads = treadmill
    plates = compute_kinetics(motion, loads, muscles=False)
    static = compute_kinetics(motion, None, muscles=False, floor_velocity=None)
    for dof in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion"):
        for side in "rl":
            r = np.corrcoef(static.moment(f"{dof}_{side}"), plates.moment(f"{dof}_{side}"))[0, 1]
            assert r < 0.5, (dof, side, r)


def test_overground_walk_bounded_by_the_plate_residual(refdata):
    # Vicon's lower-body Plug-in Gait trial: no trunk or arm markers, so the estimate's top-down
    # dynamics carry the untracked upper body; the plate solution leaves a sagittal root residual
    # of 0.33 N m/kg RMS in single support, and the estimate stays within it there
    # (RMSE 0.14-0.30). Its r is 0.62-0.94 (docs/validation_kinetics.md): below the 0.9 target.
    data = read_c3d(refdata("kinetics/vicon_plugingait_walk/walk.c3d"))
    rows, _, notes = estimated_vs_plates(pig_motion(data), c3d_loads(data))
    assert not any("treadmill" in n for n in notes)  # overground: a static floor
    for row in rows:
        assert row.rmse_single <= row.residual_single, row
        assert row.r > 0.5, row
