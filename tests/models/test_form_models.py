"""The form networks: the noisy OR of per-fault logistic models, and the feature classifier."""

from __future__ import annotations

import numpy as np
import torch

from musclepose.models.form_classifier import FormClassifier, FormClassifierConfig
from musclepose.models.noisy_or import NoisyOrConfig, NoisyOrScreen


def _screen() -> NoisyOrScreen:
    m = NoisyOrScreen(NoisyOrConfig(["a", "b", "c"], ["f1", "f2"], [[0], [1, 2]]))
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[2.0, 5.0, 5.0], [7.0, -1.0, 0.5]], dtype=torch.float64))
        m.bias.copy_(torch.tensor([-1.0, 0.3], dtype=torch.float64))
        m.mean.copy_(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
        m.std.copy_(torch.tensor([2.0, 1.0, 4.0], dtype=torch.float64))
    return m


def test_noisy_or_is_one_minus_the_product_of_the_faults_absences():
    m = _screen()
    x = torch.tensor([[3.0, 1.0, 7.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
    with torch.no_grad():
        p_any, p_f = m(x)
    z = (x.numpy() - [1.0, 2.0, 3.0]) / [2.0, 1.0, 4.0]
    # Each fault reads only its own observables (the masked weights 5, 5 and 7 are ignored).
    l1 = 2.0 * z[:, 0] - 1.0
    l2 = -1.0 * z[:, 1] + 0.5 * z[:, 2] + 0.3
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    np.testing.assert_allclose(p_f.numpy(), np.stack([sig(l1), sig(l2)], 1), rtol=1e-12)
    np.testing.assert_allclose(p_any.numpy(), 1.0 - (1.0 - sig(l1)) * (1.0 - sig(l2)), rtol=1e-12)


def test_missing_observables_sit_at_the_mean_and_wild_ones_are_clipped():
    m = _screen()
    nan = torch.tensor([[float("nan"), 2.0, 3.0]], dtype=torch.float64)
    huge = torch.tensor([[1e9, 2.0, 3.0]], dtype=torch.float64)
    with torch.no_grad():
        assert float(m.fault_logits(nan)[0, 0]) == -1.0  # z = 0 for the missing observable
        assert float(m.fault_logits(huge)[0, 0]) == 2.0 * m.config.clip_z - 1.0


def test_form_classifier_standardises_and_is_linear_without_a_hidden_layer():
    c = FormClassifier(FormClassifierConfig(["u", "v"], ["x", "y", "z"]))
    with torch.no_grad():
        c.mean.copy_(torch.tensor([1.0, -1.0], dtype=torch.float64))
        c.std.copy_(torch.tensor([2.0, 0.5], dtype=torch.float64))
    a = torch.tensor([[3.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[5.0, 1.0]], dtype=torch.float64)
    mid = torch.tensor([[4.0, 0.5]], dtype=torch.float64)
    torch.testing.assert_close(c(mid), 0.5 * (c(a) + c(b)))
    torch.testing.assert_close(c.standardise(a), torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    assert torch.isfinite(c(torch.tensor([[float("nan"), float("inf")]]))).all()
