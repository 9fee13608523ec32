"""Data-parallel training on two CPU processes (gloo): gradient averaging against the mean of
the per-rank gradients computed locally, and the coach's training run with every rank ending
on the same weights and only rank 0 writing."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _join(rank: int, port: int) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank),
                      LOCAL_RANK=str(rank))  # fmt: skip
    torch.set_num_threads(1)
    from musclepose.training.distributed import init_from_env

    assert init_from_env("cpu") == (rank, 2)


def _data(rank: int):
    g = torch.Generator().manual_seed(100 + rank)
    return torch.randn(5, 3, generator=g), torch.randn(5, 2, generator=g)


def _grad_worker(rank: int, port: int, out: str) -> None:
    import torch.distributed as dist

    from musclepose.training.distributed import all_finite, average_gradients

    _join(rank, port)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    x, y = _data(rank)
    loss = ((model(x) - y) ** 2).mean()
    assert all_finite(loss)
    loss.backward()
    average_gradients(model.parameters())
    save_file({k: p.grad.contiguous() for k, p in model.named_parameters()}, f"{out}/grad{rank}.safetensors")
    # One rank's NaN makes every rank skip the step.
    assert not all_finite(torch.tensor(float("nan")) if rank == 1 else torch.tensor(1.0))
    dist.destroy_process_group()


def test_average_gradients_is_the_mean_of_the_ranks_gradients(tmp_path):
    mp.spawn(_grad_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    expected = {}
    for rank in range(2):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        x, y = _data(rank)
        ((model(x) - y) ** 2).mean().backward()
        for k, p in model.named_parameters():
            expected[k] = expected.get(k, 0) + p.grad / 2
    for rank in range(2):
        got = load_file(tmp_path / f"grad{rank}.safetensors")
        for k, v in expected.items():
            torch.testing.assert_close(got[k], v)


def _train_worker(rank: int, port: int, out: str, train, val) -> None:
    import torch.distributed as dist

    import musclepose.training.coach as tc
    from musclepose.language.backend import tiny_llm

    made = []

    make = tc.MotionEncoder

    def recorded(*a, **k):  # keeps this rank's encoder for the comparison
        made.append(make(*a, **k))
        return made[-1]

    tc.MotionEncoder = recorded
    _join(rank, port)
    tiny_enc = {"d_model": 32, "n_layers": 1, "n_heads": 2, "ff_hidden": 64, "dropout": 0.0}
    tiny_br = {"d_model": 32, "ff_hidden": 64, "n_heads": 2, "n_layers": 1}
    config = tc.CoachTrainConfig(out=f"{out}/ckpt", encoder_epochs=1, lm_epochs=1, batch_size=2, lm_batch_size=1,
                              encoder=tiny_enc, bridge=tiny_br, lr_lm=1e-3, seed=rank)  # fmt: skip
    llm = tiny_llm(256)
    tc.train_coach(config, train, val, log=lambda *_: None, llm=llm)
    enc = {f"encoder.{k}": v.detach().contiguous() for k, v in made[0].state_dict().items()}
    lora = {f"lora.{k}": p.detach().contiguous() for k, p in llm.model.named_parameters() if p.requires_grad}
    save_file(enc | lora, f"{out}/weights{rank}.safetensors")
    dist.destroy_process_group()


def _encoder_of(folder: str) -> dict[str, torch.Tensor]:
    from musclepose.pipelines.checkpoint import load_checkpoint

    return {k: v.contiguous() for k, v in load_checkpoint(folder)[0]["encoder"].state_dict().items()}


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    from musclepose.pipelines.coach_examples import load_examples
    from musclepose.sim.dataset import build_dataset

    out = tmp_path_factory.mktemp("ddp") / "d.h5"
    build_dataset(out, 6, seed=5, exercises=["squat", "push_up"], fault_rate=1.0, duration_s=4.0, workers=1)
    return load_examples(out, workers=1, progress=False)


def test_coach_training_on_two_ranks_keeps_them_identical(tmp_path, examples):
    """Ranks start from different seeds (rank 0's weights are broadcast), train on different clips of
    each batch, and must end with the same encoder and LoRA weights; only rank 0 writes the checkpoint."""
    train, val = examples[:4], examples[4:]
    mp.spawn(_train_worker, args=(_free_port(), str(tmp_path), train, val), nprocs=2, join=True)
    w0, w1 = (load_file(tmp_path / f"weights{r}.safetensors") for r in range(2))
    assert w0.keys() == w1.keys() and any(k.startswith("lora.") for k in w0)
    for k in w0:
        torch.testing.assert_close(w0[k], w1[k], rtol=0, atol=0)
    assert all(torch.equal(v, w0[f"encoder.{k}"]) for k, v in _encoder_of(str(tmp_path / "ckpt")).items())
    state = (tmp_path / "ckpt" / "train_state" / "state.json").read_text()
    assert '"lm_step": 2' in state  # 4 clips, 1 per rank and step, 2 ranks: 2 steps
