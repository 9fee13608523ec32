"""The VQ-VAE motion tokenizer: shapes, tokens that decode to what the network outputs, and
that a tiny one learns a real motion window (MPJPE of the decoded body against the recording)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("vector_quantize_pytorch")  # the optional "tokens" extra

from musclepose.io import load_motion  # noqa: E402
from musclepose.models.vqvae import VQVAE, VQVAEConfig  # noqa: E402
from musclepose.pipelines.motion_features import (  # noqa: E402
    FeatureStats,
    features_to_q,
    joint_error_mm,
    motion_features,
)


@pytest.mark.parametrize("n_quantizers", [1, 3])
def test_shapes_and_tokens_decode_to_the_forward_output(n_quantizers):
    torch.manual_seed(0)
    net = VQVAE(VQVAEConfig(width=32, depth=1, code_dim=16, codebook_size=16, n_quantizers=n_quantizers))
    x = torch.randn(4, 24, 115)
    out = net(x)  # training mode: k-means initialises the codebooks from this batch
    assert out.recon.shape == x.shape and torch.isfinite(out.commit)
    assert out.ids.shape == ((4, 6) if n_quantizers == 1 else (4, 6, n_quantizers))
    assert int(out.ids.min()) >= 0 and int(out.ids.max()) < 16
    net.eval()
    ids = net.encode(x)
    torch.testing.assert_close(net.decode(ids), net(x).recon)  # ids carry everything the decoder sees
    with pytest.raises(ValueError, match="multiple of 4"):
        net(torch.randn(1, 10, 115))


def test_tiny_model_overfits_one_real_window(refdata):
    # 32 frames (1.6 s) of the real squats at 20 fps; the decoded body's joint centres against the
    # recording's. Measured: ~146 mm untrained, 2.2 mm after 300 steps (1.8 s on one thread).
    torch.manual_seed(0)
    m = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot")).resampled(20.0)[40:72]
    q = m.q.double().numpy()
    f = motion_features(q, m.fps, m.body)
    stats = FeatureStats.fit([f])
    x = stats.normalise(torch.as_tensor(f, dtype=torch.float32))[None]
    net = VQVAE(VQVAEConfig(width=32, depth=1, code_dim=16, codebook_size=8, fps=20.0))

    def error_mm() -> float:
        net.eval()
        recon = net.decode(net.encode(x))[0].double()
        net.train()
        return joint_error_mm(m.body, q, features_to_q(stats.denormalise(recon), m.fps, q[0]))

    before = error_mm()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(300):
        out = net(x)
        loss = F.smooth_l1_loss(out.recon, x) + 0.5 * F.smooth_l1_loss(out.recon.diff(dim=1), x.diff(dim=1))
        opt.zero_grad()
        (loss + 0.02 * out.commit).backward()
        opt.step()
    after = error_mm()
    assert after < 5.0 and after < 0.1 * before
