"""Rich renderings of library results (tables), kept out of the library itself."""

from __future__ import annotations

from rich.table import Table

from ..body import Body


def segment_table(body: Body) -> Table:
    t = Table(title=f"{body.sex} body, {body.height_m:.2f} m, {body.mass_kg:.1f} kg (Dumas 2007 BSIP)")
    for col in ("segment", "parent", "mass kg", "% body", "length m", "CoM x", "CoM y", "CoM z"):
        t.add_column(col, justify="left" if col in ("segment", "parent") else "right")
    for row in body.segment_table():
        cx, cy, cz = row["com_m"]
        t.add_row(
            row["segment"],
            row["parent"] or "-",
            f"{row['mass_kg']:.2f}",
            f"{100 * row['mass_kg'] / body.mass_kg:.1f}",
            f"{row['length_m']:.3f}",
            f"{cx:+.3f}",
            f"{cy:+.3f}",
            f"{cz:+.3f}",
        )
    return t
