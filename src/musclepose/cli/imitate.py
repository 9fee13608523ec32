"""``musclepose imitate``: simulate a body that follows a recording in MuJoCo, and say how well it could.

Thin: parse, :func:`musclepose.pipelines.imitate.imitate_file` (stable PD, Tan et al. 2011),
write the simulated motion (``.mot``/``.sto``/``.json``, atomically), print joint-angle RMSE,
root residual, falls, muscle activations and the torque the muscles could not supply
(``--muscles static|nn``; ``--json`` for scripts).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..atomic import check_output_dir, check_replaceable_dir, output_lock
from ..progress import progress_bar
from ._common import check_mass, check_out_file, check_sex, echo, error_message, fail, print_json, warn
from .analyze import MASS_HELP, check_inputs, spinner

__all__ = ["imitate", "train_imitate_cmd"]


def imitate(
    path: Path = typer.Argument(..., help="Recording (any file `musclepose analyze` reads)."),
    controller: str = typer.Option("spd", "--controller", help="spd (stable PD) or pd (plain PD, the baseline)."),
    residual: bool = typer.Option(
        True, "--residual/--no-residual", help="Residual root forces hold the pelvis (default) or none."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the simulated motion: .mot, .sto or .json."),
    mass: float | None = typer.Option(None, "--mass", callback=check_mass, help=MASS_HELP),
    sex: str = typer.Option("male", "--sex", callback=check_sex, help="male or female (Dumas 2007 table)."),
    muscles: str = typer.Option(
        "static",
        "--muscles",
        help="Activations from the applied torques: static (static optimisation) or nn (MuscleNN).",
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Write tracking, residual and muscle PNGs into this folder."),
    report: Path | None = typer.Option(None, "--report", help="Write a self-contained HTML report (numbers, figures)."),
    cycles: int = typer.Option(
        1, "--cycles", min=1, max=1000, help="Play a looping recording (a DeepMimic 'wrap' clip) this many times."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Make a simulated body follow a recording under physics; report tracking error, residual, falls and muscles.

    Example: musclepose imitate squats1.mot --no-residual -o squats1_sim.mot --report squats1_sim.html --json

    Example: musclepose imitate humanoid3d_walk.txt --cycles 8 (a 10-s walk from DeepMimic's 1.3-s loop)
    """
    from ..control.simulation import DEFAULT_TIMESTEP
    from ..pipelines.imitate import OUTPUTS, imitate_motion, write_imitation

    controller = controller.strip().lower()
    if controller not in ("spd", "pd"):
        fail(f"--controller {controller!r}: choose spd or pd")
    muscles = muscles.strip().lower()
    if muscles not in ("static", "nn"):
        fail(f"--muscles {muscles!r}: choose static or nn")
    check_inputs(path)
    if plot is not None:
        try:
            check_output_dir(plot, what="the --plot folder", may_create=True)
        except OSError as err:
            fail(error_message(err))
    if report is not None:
        check_out_file(report, (".html", ".htm"), "--report")
    if out is not None:
        check_out_file(out, OUTPUTS)
        if os.path.lexists(out) and path.resolve() == out.resolve():
            fail(f"{out}: output would overwrite the input")
    if cycles > 1:
        from ..io.deepmimic import deepmimic_loop

        loop = deepmimic_loop(path)
        if loop not in (None, "wrap"):
            fail(f"{path}: --cycles {cycles}: the file does not loop (Loop: {loop!r})")
    try:
        with spinner(f"Loading {path.name}") as say:
            from ..io.load import load_motion

            motion = load_motion(path, mass_kg=mass, sex=sex, progress=say)
        if cycles > 1:
            motion = motion.repeated(cycles)
        steps = max(1, int(round(motion.duration / DEFAULT_TIMESTEP)))
        with progress_bar(f"Simulating {path.name}", total=steps) as advance:
            done = [0]

            def progress(k: int, total: int) -> None:
                advance(max(0, k - done[0]))
                done[0] = k

            result = imitate_motion(motion, controller=controller, residual=residual, source=str(path),
                                    muscles=muscles, progress=progress)  # fmt: skip
        if out is not None:
            with output_lock(out):
                write_imitation(out, result)
        figures = []
        if plot is not None:
            from ..report.imitation_plots import plot_imitation

            figures = [str(p) for p in plot_imitation(result, plot)]
        if report is not None:
            from ..report.html import write_imitation_report

            write_imitation_report(report, result)
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err, path))
    far = {k: v for k, v in result.beyond_limits_deg.items() if v > 20.0}
    if far:
        worst = max(far, key=far.get)
        warn(f"{path}: the reference takes {len(far)} joint(s) more than 20 deg past their range (worst {worst}, "
             f"{far[worst]:.0f} deg); the simulated joints stop at their limits")  # fmt: skip
    summary = result.summary()
    if out is not None:
        summary["output"] = str(out)
    if figures:
        summary["figures"] = figures
    if report is not None:
        summary["report"] = str(report)
    if json_out:
        print_json(summary)
        return
    t = result.tracking
    fell = f"fell at {t.fall_time_s:.2f} s" if t.fell else "did not fall"
    residual_text = (
        f"; root residual max {t.max_residual_force_n:.0f} N ({t.max_residual_force_pct_bw:.0f} % body weight), "
        f"{t.max_residual_moment_nm:.0f} N m"
        if residual
        else "; no residual root forces"
    )
    muscle_text = ""
    if "muscles" in summary:
        peak_gen, peak = next(iter(summary["peak_activations"].items()), ("-", 0.0))
        worst = next(iter(summary["unsupplied_torque_nm"]), "-")
        muscle_text = (
            f"; muscles ({muscles}): mean activation {summary['mean_activation']:.2f}, peak {peak:.2f} ({peak_gen}), "
            f"unsupplied torque max {summary['max_unsupplied_torque_nm']:.0f} N m ({worst})"
        )
    echo(
        f"{path.name}: {controller.upper()} tracked {t.simulated_s:.2f} of {t.duration_s:.2f} s, joint RMSE "
        f"{t.joint_rmse_deg:.2f} deg, {fell}{residual_text}{muscle_text}"
        + (f"; wrote {out}" if out is not None else "")
        + (f"; figures in {plot}" if figures else "")
        + (f"; report {report}" if report is not None else "")
    )


def train_imitate_cmd(
    motion: Path = typer.Argument(..., help="Reference recording to imitate (any file `musclepose analyze` reads)."),
    out: Path = typer.Option(..., "--out", "-o", help="Policy folder (config.json + policy.safetensors)."),
    timesteps: int = typer.Option(100_000, "--timesteps", min=1, help="Environment samples to train on."),
    envs: int = typer.Option(2, "--envs", min=1, max=64, help="Environments, one subprocess each (one per core)."),
    residual: bool = typer.Option(False, "--residual/--no-residual", help="Residual root forces (default none)."),
    seed: int = typer.Option(0, "--seed"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a folder of files MusclePose did not write."),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Train a PPO policy (stable-baselines3) that imitates a recording in MuJoCo (DeepMimic reward).

    Example: musclepose train imitate squats1.mot --timesteps 20000 -o policies/squat
    """
    from ..training.imitation import ImitationTrainConfig, train_imitation

    check_inputs(motion)
    try:  # before hours of training: a folder we may write (absent, empty or ours)
        check_replaceable_dir(out, overwrite)
    except (OSError, ValueError) as err:
        fail(error_message(err, out))
    cfg = ImitationTrainConfig(
        motion=str(motion), out=str(out), total_timesteps=timesteps, n_envs=envs, residual=residual, seed=seed,
        overwrite=overwrite,
    )  # fmt: skip
    try:
        with progress_bar(f"PPO on {motion.name}", total=timesteps) as advance:
            done = [0]

            def progress(k: int, total: int) -> None:
                advance(max(0, k - done[0]))
                done[0] = k

            stats = train_imitation(cfg, progress)
    except (ValueError, KeyError, OSError, RecursionError) as err:
        fail(error_message(err, motion))
    if json_out:
        print_json({"motion": str(motion), "out": str(out), **stats})
        return
    echo(
        f"trained {stats['timesteps']} samples in {stats['wall_s']:.0f} s ({stats['samples_per_s']:.0f} samples/s); "
        f"mean episode return {stats['mean_episode_return']}, length {stats['mean_episode_length']}; wrote {out}"
    )
