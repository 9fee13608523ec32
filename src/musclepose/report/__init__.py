"""Plots and reports (matplotlib, written atomically)."""

from .kinetics_plots import plot_cycle_curves

__all__ = ["plot_cycle_curves"]
