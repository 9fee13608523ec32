"""Plots and reports (matplotlib, written atomically)."""

from .html import write_coach_report
from .kinetics_plots import plot_cycle_curves

__all__ = ["plot_cycle_curves", "write_coach_report"]
