"""Training: one trainer per task (the coach: :mod:`.coach`), losses, saving checkpoints, torchrun/DDP.

Running what was trained is :mod:`musclepose.pipelines`, which never imports this package.
"""

from .checkpoint import save_checkpoint
from .coach import CoachTrainConfig, train_coach
from .coach_state import export_coach
from .form_screen import fit_form_screen

__all__ = ["CoachTrainConfig", "export_coach", "fit_form_screen", "save_checkpoint", "train_coach"]
