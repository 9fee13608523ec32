"""The shipped MuscleNN against static optimisation on the real squat (a person it never saw)."""

import pytest
import torch

from musclepose.body.muscles import mtg_parameters, static_optimization
from musclepose.io import load_motion
from musclepose.motion.kinetics import compute_kinetics
from musclepose.pipelines.imitate import load_muscle_nn

# docs/benchmarks_muscle_nn.md, squats1 (real, ID): MAE 0.0102, max |difference| 0.044; bounds with a margin.
MAE_BOUND = 0.015
MAX_BOUND = 0.08


pytestmark = pytest.mark.usefixtures("one_thread")


def test_shipped_muscle_nn_agrees_with_static_optimisation_on_squats1(refdata):
    motion = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot"))
    kin = compute_kinetics(motion)
    q, qd, tau = (torch.as_tensor(x).detach().float() for x in (kin.motion.q, kin.qd, kin.tau))
    params = mtg_parameters(motion.body)
    so = static_optimization(params, q, qd, tau).activations
    with torch.no_grad():
        a = load_muscle_nn().activations(params, q, qd, tau)
    diff = (a - so).abs()
    assert float(diff.mean()) < MAE_BOUND and float(diff.max()) < MAX_BOUND
    # where a generator pair carries a real load, the network's activation follows static optimisation's
    loaded = so > 0.2
    assert loaded.sum() > 1000 and float(diff[loaded].mean()) < 0.03
