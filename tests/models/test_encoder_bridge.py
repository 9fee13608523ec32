"""The encoder and the PhysicsBridge: shapes, padding that changes nothing, gradients, soft-token scale."""

from __future__ import annotations

import pytest
import torch

from musclepose.models.bridge import PHYSICS_DIM, BridgeConfig, PhysicsBridge, sinusoidal_encoding
from musclepose.models.encoder import EncoderConfig, MotionEncoder

SMALL = EncoderConfig(d_model=32, n_layers=2, n_heads=4, ff_hidden=64, dropout=0.0)


def test_sinusoidal_encoding_is_distinct_per_position():
    pe = sinusoidal_encoding(torch.arange(50.0), 32)
    assert pe.shape == (50, 32)
    d = torch.cdist(pe, pe) + torch.eye(50) * 10
    assert d.min() > 1e-3  # no two positions alike: the encoding exists (the seed's did not)


def test_encoder_outputs_and_padding_is_ignored():
    torch.manual_seed(0)
    enc = MotionEncoder(SMALL).eval()
    x = torch.randn(2, 40, 7)
    pad = torch.zeros(2, 40, dtype=torch.bool)
    pad[1, 30:] = True
    out = enc(x, 30.0, pad)
    assert out.q.shape == (2, 40, 47) and out.activations.shape == (2, 40, 82) and out.grf_delta.shape == (2, 40, 2, 5)
    assert out.shape.shape == (2, 3) and ((out.activations >= 0) & (out.activations <= 1)).all()
    # Changing what is in the padded frames changes nothing in the real ones (mask used everywhere).
    x2 = x.clone()
    x2[1, 30:] = 100.0
    out2 = enc(x2, 30.0, pad)
    torch.testing.assert_close(out.q[1, :30], out2.q[1, :30])
    torch.testing.assert_close(out.shape, out2.shape)
    # And a clip alone equals the same clip in a padded batch.
    alone = enc(x[1:, :30], 30.0)
    torch.testing.assert_close(alone.q[0], out.q[1, :30], atol=1e-5, rtol=1e-5)


def test_encoder_uses_time_in_seconds():
    torch.manual_seed(0)
    enc = MotionEncoder(SMALL).eval()
    x = torch.randn(1, 20, 7)
    assert not torch.allclose(enc(x, 30.0).q, enc(x, 60.0).q)


@pytest.mark.parametrize("scale", [0.03, 0.14])
def test_bridge_soft_tokens_match_the_llm_embedding_scale(scale):
    torch.manual_seed(0)
    cfg = BridgeConfig(d_model=32, ff_hidden=64, llm_hidden=48, embedding_scale=scale)
    bridge = PhysicsBridge(cfg)
    phys = torch.randn(3, 25, PHYSICS_DIM)
    states = torch.randn(3, 25, 32)
    tokens = bridge(phys, states, fps=30.0)
    assert tokens.shape == (3, 8, 48)
    # LayerNorm then tanh(0.5) x scale: per-token std = tanh(0.5) * scale at initialisation.
    std = tokens.detach().std(-1, unbiased=False).mean().item()
    assert std == pytest.approx(torch.tanh(torch.tensor(0.5)).item() * scale, rel=0.05)


def test_bridge_padding_and_gradients():
    torch.manual_seed(1)
    bridge = PhysicsBridge(BridgeConfig(d_model=32, ff_hidden=64, llm_hidden=48))
    phys = torch.randn(2, 25, PHYSICS_DIM, requires_grad=True)
    states = torch.randn(2, 25, 32, requires_grad=True)
    pad = torch.zeros(2, 25, dtype=torch.bool)
    pad[0, 20:] = True
    out = bridge(phys, states, pad)
    phys2 = phys.detach().clone()
    phys2[0, 20:] = 50.0
    torch.testing.assert_close(out[0], bridge(phys2, states.detach(), pad)[0])
    out.square().sum().backward()
    assert phys.grad.abs()[0, :20].sum() > 0 and phys.grad[0, 20:].abs().max() == 0
    assert bridge.gate.grad is not None and bridge.event_tokens.grad.abs().sum() > 0


def test_physics_features_layout():
    from musclepose.models.bridge import physics_features

    b, t = 2, 5
    q = torch.zeros(b, t, 47)
    q[:, :, 0] = torch.arange(t) + 3.0  # root x travels
    f = physics_features(torch.tensor([70.0, 50.0]), q, torch.ones(b, t, 47) * 10, torch.ones(b, t, 47) * 70,
                         torch.ones(b, t, 41) * 70, torch.full((b, t, 82), 0.5), torch.ones(b, t, 2))  # fmt: skip
    assert f.shape == (b, t, PHYSICS_DIM) == (2, 5, 266)
    assert f[0, :, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]  # relative to the first frame
    assert torch.allclose(f[0, :, 47:94], torch.ones(t, 47))  # qd / 10
    assert torch.allclose(f[1, :, 94:141], torch.full((t, 47), 70 / 50))  # per kg
