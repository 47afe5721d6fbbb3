"""Every unit label in a results directory, and the checks that they are the case's
(:mod:`grassego.units`): used by the LJ end-to-end test (tests/test_case_units.py) and the
metal one (tests/test_workflow.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import xarray as xr
from PIL import Image

from grassego.units import Units

#: Physical unit labels a reduced-LJ case must never write (word-bounded, so that a constant's
#: name such as ``mu_GPa`` or ``T_Z_K`` inside a repr does not count).
PHYSICAL_LABELS = re.compile(r"\bGPa\b|\beV\b|Å|[Aa]ngstrom|\bK\b")
#: Files read as text.
TEXT_SUFFIXES = (".csv", ".json", ".html", ".log", ".tsv", ".txt", ".yaml")


def _netcdf_texts(path: Path) -> list[str]:
    """``var:attr=value`` for every attribute (``:attr=value`` for global ones) and
    ``var=value`` for every element of a string variable or coordinate."""
    with xr.open_dataset(path, decode_times=False) as ds:
        out = [f":{k}={v}" for k, v in ds.attrs.items()]
        for name, var in ds.variables.items():
            out += [f"{name}:{k}={v}" for k, v in var.attrs.items()]
            if var.dtype.kind in "OSU":
                out += [f"{name}={v}" for v in var.values.ravel()]
    return out


def _png_texts(path: Path) -> list[str]:
    """The figure's words (its ``Description`` metadata, :func:`grassego.plots.figure_text`)."""
    text = Image.open(path).info.get("Description")
    assert text, f"{path}: no figure text in the PNG metadata"
    return text.splitlines()


def output_texts(results: Path) -> dict[str, list[str]]:
    """Relative path → the texts of every output of ``results`` that carries words: NetCDF
    attributes and string values, figure texts, and the lines of CSV, JSON, HTML, logs and
    benchmark tables."""
    out = {}
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        rel = str(path.relative_to(results))
        if path.suffix == ".nc":
            out[rel] = _netcdf_texts(path)
        elif path.suffix == ".png":
            out[rel] = _png_texts(path)
        elif path.suffix in TEXT_SUFFIXES:
            out[rel] = path.read_text(errors="replace").splitlines()
    return out


def physical_labels(texts: dict[str, list[str]]) -> list[str]:
    """``path: text`` of every text naming a physical unit (:data:`PHYSICAL_LABELS`)."""
    return [f"{rel}: {t[:200]}" for rel, lines in texts.items() for t in lines
            if PHYSICAL_LABELS.search(t)]


def expected_labels(units: Units) -> dict[str, list[str]]:
    """Relative path → texts that path must contain in a case of ``units`` (the .test
    layout: parameters c0, s_y, beta, E0; uncertainty step on)."""
    naming = "lj_units" if units.reduced else "units"

    def nc(*pairs: tuple[str, str]) -> list[str]:
        return [f"{var}:{naming}={units.name(q)}" for var, q in pairs]

    params = [units.parameter_axis(n) for n in ("s_y", "beta", "E0")]
    param_units = [f"param_units={u}" for u in units.parameter_names(["s_y", "beta", "E0"])]
    x, y = units.axis("x", "length"), units.axis("y", "length")
    return {
        "reference/fields.nc": nc(("pe", "energy_per_atom"), ("stress_strain", "stress"),
                                  ("x", "length"), ("y", "length")),
        "runs/seed_0/batch_0.nc": nc(("tau_mean", "stress"), ("t_eff", "temperature"), ("x", "length"),
                              ("s_y", "stress"), ("beta", "inverse_energy"), ("E0", "energy"),
                              ("d_stress", "stress")),
        "ego/seed_0/result.nc": param_units,
        "uncertainty/uncertainty.nc": param_units,
        "figures/stress_strain.png": [units.axis("shear stress τ", "stress")],
        "figures/strain_fields.png": [x, y],
        "figures/teff_fields.png": [units.axis("T_eff", "temperature"), x, y],
        "figures/band_profiles.png": [y],
        "figures/convergence.png": params,
        "figures/uncertainty_profiles.png": params,
        "figures/uncertainty_pairs.png": params,
        "summary/uncertainty.html": [f"{units.label('stress')} (", f"{units.label('energy')} ("],
        "logs/ego/seed_0.log": [f" {units.label('energy')}"],
    }


def missing_labels(texts: dict[str, list[str]], units: Units) -> list[str]:
    """``path: label`` of every expected label (:func:`expected_labels`) the outputs lack."""
    return [f"{rel}: {label}" for rel, labels in expected_labels(units).items()
            for label in labels if not any(label in t for t in texts.get(rel, []))]


def check_case_labels(results: Path, units: Units) -> None:
    """Assert that every output of ``results`` speaks the case's ``units``: the expected
    labels are there, the summaries name each quantity's unit, and a reduced-LJ case names no
    physical unit anywhere."""
    texts = output_texts(results)
    assert not missing_labels(texts, units), missing_labels(texts, units)
    summary = json.loads((results / "summary" / "summary.json").read_text())
    for block in (summary["units"], summary["uncertainty"]["units"]):
        assert (block["system"], block["dimension"]) == (units.system, units.dimension)
        assert block["columns"]["s_y"] == units.name("stress")
        assert block["columns"]["beta"] == units.name("inverse_energy")
        assert block["columns"]["E0"] == units.name("energy")
    assert summary["units"]["columns"]["peak_stress"] == units.name("stress")
    verdict = summary["uncertainty"]["verdicts"]["s_y"]["text"]
    assert units.label("stress") in verdict, verdict
    if units.reduced:
        leaks = physical_labels(texts)
        assert not leaks, "\n".join(leaks)
