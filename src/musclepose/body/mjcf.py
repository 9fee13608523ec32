"""Export a :class:`~musclepose.body.Body` as MuJoCo MJCF XML.

The pelvis carries 3 slide joints (world X, Y, Z) then 3 hinges (Z, X, Y), and every other
segment one hinge per DoF with the signed axis of :mod:`.skeleton`, in the same order, so
``mjData.qpos`` equals ``q`` element for element and ``mj_inverse`` is comparable with
:func:`~musclepose.body.inverse_dynamics`. Rotational DoF carry their cited ranges as joint
limits. Inertial parameters are written explicitly
(``fullinertia`` about the CoM in the segment frame); the capsule and box geoms are for
display and contact only (``inertiafromgeom="false"``). Gravity is (0, -9.81, 0), Y-up.

For forward simulation (:mod:`musclepose.control`) the export can add one ``motor`` per
rotational DoF (``ctrl`` = joint torque in N m, ``ctrlrange`` = the torque the body can
produce), six residual root motors (N on the slides, N m on the hinges) and its own timestep,
and make the hands touch the floor; without those options the XML is the kinematic export
that the tests compare with MuJoCo.

This module does not import :mod:`.model` (whose ``Body.to_mjcf`` calls it): it reads a body
through :class:`MJCFBody`, the part of ``Body`` that the export needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol
from xml.sax.saxutils import quoteattr

import numpy as np

from .skeleton import JOINTS

__all__ = ["MJCFBody", "body_to_mjcf"]


class MJCFBody(Protocol):
    """What :func:`body_to_mjcf` reads of a :class:`~musclepose.body.Body`."""

    height_m: float
    mass_kg: float
    sex: str
    lengths: Mapping[str, float]
    offsets: np.ndarray
    masses: np.ndarray
    coms: np.ndarray
    inertias: np.ndarray
    segment_names: tuple[str, ...]
    parents: tuple[int, ...]

    @property
    def n_segments(self) -> int: ...

    def segment_lengths(self) -> dict[str, float]: ...


def _f(x) -> str:
    return " ".join(f"{float(v):.10g}" for v in np.ravel(x))


def _actuators(actuator_torques: Sequence[float] | None, root_residual: bool) -> str:
    """The ``<actuator>`` block: motors in ``q`` order, root first, so ``ctrl`` maps onto the DoF it drives."""
    dofs = [d for j in JOINTS for d in j.dofs]
    lines = []
    if root_residual:
        # Residual root forces are unbounded on purpose: their size is what the caller measures.
        lines += [
            f'    <motor name="residual_{d.name}" joint="{d.name}" gear="1" ctrllimited="false"/>' for d in dofs[:6]
        ]
    if actuator_torques is not None:
        limits = np.asarray(actuator_torques, dtype=np.float64)
        if limits.shape != (len(dofs) - 6,) or not np.all(np.isfinite(limits)) or np.any(limits <= 0):
            raise ValueError(
                f"actuator_torques must be {len(dofs) - 6} positive finite torques (N m); got {limits.shape}"
            )
        lines += [
            f'    <motor name="{d.name}" joint="{d.name}" gear="1" ctrllimited="true" ctrlrange="{-t:.10g} {t:.10g}"/>'
            for d, t in zip(dofs[6:], limits, strict=True)
        ]
    return "  <actuator>\n" + "\n".join(lines) + "\n  </actuator>\n" if lines else ""


def body_to_mjcf(
    body: MJCFBody,
    name: str = "musclepose_body",
    *,
    actuator_torques: Sequence[float] | None = None,
    root_residual: bool = False,
    timestep: float = 0.002,
    hand_contact: bool = False,
) -> str:
    """MJCF XML of ``body`` (see the module docstring); ``name`` is the model name.

    ``actuator_torques`` (41, N m): add a motor per rotational DoF limited to that torque;
    ``root_residual``: add unlimited motors on the 6 root DoF; ``timestep`` in s; ``hand_contact``:
    the hands' capsules touch the floor (push-ups, getting up), as the box soles always do.
    """
    if not (np.isfinite(timestep) and 0 < timestep <= 0.05):
        raise ValueError(f"timestep must be in (0, 0.05] s; got {timestep!r}")
    joints_of = {j.segment: j for j in JOINTS}
    children: dict[int, list[int]] = {i: [] for i in range(body.n_segments)}
    for i, p in enumerate(body.parents):
        if p >= 0:
            children[p].append(i)
    lengths = body.segment_lengths()
    L = body.lengths

    def geoms(i: int, pad: str) -> list[str]:
        seg = body.segment_names[i]
        out = []
        kids = children[i]
        radius = max(0.02, 0.12 * lengths[seg]) if not seg.startswith("foot") else 0.03
        if seg.startswith("foot"):
            size = (0.5 * L["foot_full"], 0.5 * L["ankle_height"], 0.025)
            center = (0.5 * L["foot_full"] - L["heel_back"], -0.5 * L["ankle_height"], 0.0)
            out.append(
                f'{pad}<geom name="{seg}_sole" type="box" size="{_f(size)}" pos="{_f(center)}" class="contact"/>'
            )
            return out
        ends = [body.offsets[k] for k in kids]
        if not ends:
            ends = [
                np.array([0.0, -lengths[seg], 0.0]) if seg.startswith("hand") else np.array([0.0, lengths[seg], 0.0])
            ]
        for k, end in enumerate(ends):
            if np.linalg.norm(end) < 1e-6:
                continue
            fromto = f"0 0 0 {_f(end)}"
            size = f"{radius:.4g}"
            cls = "contact" if hand_contact and seg.startswith("hand") else "visual"
            out.append(f'{pad}<geom name="{seg}_g{k}" type="capsule" fromto="{fromto}" size="{size}" class="{cls}"/>')
        return out

    def emit(i: int, depth: int) -> list[str]:
        pad = "  " * depth
        seg = body.segment_names[i]
        lines = [f'{pad}<body name="{seg}" pos="{_f(body.offsets[i])}">']
        inertia = body.inertias[i]
        full = (inertia[0, 0], inertia[1, 1], inertia[2, 2], inertia[0, 1], inertia[0, 2], inertia[1, 2])
        lines.append(
            f'{pad}  <inertial pos="{_f(body.coms[i])}" mass="{body.masses[i]:.10g}" fullinertia="{_f(full)}"/>'
        )
        for d in joints_of[i].dofs:
            if d.kind == "slide":
                lines.append(f'{pad}  <joint name="{d.name}" type="slide" axis="{_f(d.axis)}" limited="false"/>')
            elif np.isfinite(d.lower) and d.upper - d.lower < 2 * np.pi - 1e-9:
                lines.append(
                    f'{pad}  <joint name="{d.name}" type="hinge" axis="{_f(d.axis)}" '
                    f'range="{d.lower:.10g} {d.upper:.10g}" limited="true"/>'
                )
            else:
                lines.append(f'{pad}  <joint name="{d.name}" type="hinge" axis="{_f(d.axis)}" limited="false"/>')
        lines += geoms(i, pad + "  ")
        for k in children[i]:
            lines += emit(k, depth + 1)
        lines.append(f"{pad}</body>")
        return lines

    body_xml = "\n".join(emit(0, 2))
    title = quoteattr(name)
    return f"""<mujoco model={title}>
  <!-- MusclePose body: height {body.height_m:.3f} m, mass {body.mass_kg:.2f} kg, {body.sex}.
       Y-up; qpos == MusclePose q (47). Generated by musclepose.body.mjcf. -->
  <compiler angle="radian" inertiafromgeom="false" autolimits="true"/>
  <option gravity="0 -9.81 0" timestep="{timestep:.10g}"/>
  <default>
    <joint damping="0" armature="0"/>
    <default class="visual"><geom contype="0" conaffinity="0" rgba="0.8 0.6 0.5 1"/></default>
    <default class="contact">
      <geom contype="1" conaffinity="1" rgba="0.3 0.3 0.3 1" friction="0.8 0.005 0.0001"/>
    </default>
  </default>
  <worldbody>
    <light pos="0 4 2" dir="0 -1 -0.5"/>
    <geom name="floor" type="plane" size="10 10 0.1" zaxis="0 1 0" contype="1" conaffinity="1" rgba="0.9 0.9 0.9 1"/>
{body_xml}
  </worldbody>
{_actuators(actuator_torques, root_residual)}</mujoco>
"""
