"""Body segment parameters against Dumas et al. (2007) Table 2 and physical consistency."""

import numpy as np
import pytest
import torch

from musclepose.body import Body, forward_kinematics
from musclepose.body.anthropometry import DUMAS_2007


@pytest.mark.parametrize("sex", ["male", "female"])
@pytest.mark.parametrize("height,mass", [(1.55, 48.0), (1.75, 70.0), (1.95, 110.0)])
def test_total_mass_equals_body_mass(sex, height, mass):
    b = Body.standard(height, mass, sex)
    assert b.masses.sum() == pytest.approx(mass, rel=1e-12)
    assert (b.masses > 0).all()


# Published Dumas (2007) Table 2 entries, transcribed independently of the module's table:
# segment, sex, mass %, CoM % (x, y, z), radii of gyration % (xx, yy, zz, xy, xz, yz).
PUBLISHED = [
    ("thigh_r", "male", 12.3, (-4.1, -42.9, 3.3), (29, 15, 30, 7, -2, -7)),
    ("shank_r", "female", 4.5, (-4.9, -40.4, 3.1), (28, 10, 28, 2, 1, 6)),
    ("upperarm_r", "male", 2.4, (1.7, -45.2, -2.6), (31, 14, 32, 6, 5, 2)),
    ("forearm_r", "female", 1.3, (2.1, -41.1, 1.9), (26, 14, 25, 10, 4, -13)),
    ("head", "male", 6.7, (-6.2, 55.5, 0.1), (31, 25, 33, -9, -2, 3)),
]


@pytest.mark.parametrize("segment,sex,mass_pct,com_pct,radii", PUBLISHED)
def test_segment_parameters_match_published_table(segment, sex, mass_pct, com_pct, radii):
    b = Body.standard(1.75, 70.0, sex)
    i = b.segment_index(segment)
    total_pct = sum(
        r.mass_pct * (2 if k in ("arm", "forearm", "hand", "thigh", "leg", "foot") else 1)
        for k, r in DUMAS_2007[sex].items()
    )
    m = mass_pct / total_pct * 70.0  # after renormalising the table to 100 %
    assert b.masses[i] == pytest.approx(m, rel=1e-12)
    length = b.segment_lengths()[segment]
    np.testing.assert_allclose(b.coms[i], np.array(com_pct) / 100 * length, atol=1e-12)
    xx, yy, zz, xy, xz, yz = (np.sign(r) * (abs(r) / 100 * length) ** 2 * m for r in radii)
    expected = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    np.testing.assert_allclose(b.inertias[i], expected, rtol=1e-12)


def test_left_side_mirrors_right():
    b = Body.standard()
    for seg in ("thigh", "shank", "foot", "upperarm", "forearm", "hand", "scapula"):
        r, l = b.segment_index(f"{seg}_r"), b.segment_index(f"{seg}_l")
        s = np.diag([1.0, 1.0, -1.0])
        np.testing.assert_allclose(b.coms[l], s @ b.coms[r], atol=1e-15)
        np.testing.assert_allclose(b.inertias[l], s @ b.inertias[r] @ s, atol=1e-15)


@pytest.mark.parametrize("sex", ["male", "female"])
def test_inertia_tensors_are_physically_consistent(sex):
    # Symmetric positive definite, principal moments obey the triangle inequality.
    b = Body.standard(1.8, 80.0, sex)
    for i, name in enumerate(b.segment_names):
        inertia = b.inertias[i]
        np.testing.assert_allclose(inertia, inertia.T, atol=1e-15)
        p = np.linalg.eigvalsh(inertia)
        assert p.min() > 0, name
        assert p[0] + p[1] >= p[2] * (1 - 1e-9), name


@pytest.mark.parametrize("sex", ["male", "female"])
def test_whole_body_centre_of_mass_height(sex):
    # Standing CoM height is about 55-57 % of stature (e.g. Winter 2009, ch. 4; Croskey 1922).
    b = Body.standard(1.75, 70.0, sex)
    fk = forward_kinematics(b, b.neutral_q())
    com = (fk.origins + (fk.rotations @ torch.tensor(b.coms)[..., None])[..., 0]).numpy()
    y = (b.masses[:, None] * com).sum(0)[1] / b.mass_kg
    assert 0.53 < y / 1.75 < 0.59
    assert abs((b.masses[:, None] * com).sum(0)[2]) / b.mass_kg < 1e-3  # left-right symmetric


def test_explicit_segment_lengths_are_used():
    b = Body.from_segment_lengths({"thigh": 0.50, "shank": 0.41}, 80.0, "male")
    lengths = b.segment_lengths()
    assert lengths["thigh_r"] == 0.50 and lengths["shank_l"] == 0.41
    assert b.offsets[b.segment_index("shank_r")][1] == pytest.approx(-0.50)
    with pytest.raises(ValueError, match="unknown segment length"):
        Body.from_segment_lengths({"tibia": 0.4}, 80.0)
    with pytest.raises(ValueError, match="positive"):
        Body.from_segment_lengths({"thigh": -0.4}, 80.0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="sex"):
        Body.standard(1.75, 70, "robot")
    with pytest.raises(ValueError, match="height_m"):
        Body.standard(175, 70)
    with pytest.raises(ValueError, match="mass_kg"):
        Body.standard(1.75, float("nan"))


def test_dof_names_and_limits_are_anatomical():
    b = Body.standard()
    assert len(b.dof_names) == 47 and len(set(b.dof_names)) == 47
    rot = slice(6, 47)
    width = np.degrees(b.dof_upper[rot] - b.dof_lower[rot])
    assert not np.allclose(width, width[0])  # not one placeholder range for every DoF
    assert all(s for s in b.dof_sources[6:])
    knee = b.dof_index("knee_flexion_r")
    assert np.degrees(b.dof_upper[knee]) >= 135 and np.degrees(b.dof_lower[knee]) <= 0


def test_only_the_inconsistent_published_tensors_are_corrected():
    # Dumas' female torso tensor breaks the triangle inequality; the male table does not.
    assert Body.standard(sex="male").corrected_inertias == ()
    assert set(Body.standard(sex="female").corrected_inertias) == {"lumbar", "thorax"}
