"""Model constants of the quasi-static STZ continuum solver (one source of truth).

Defaults are those of the paper's runs (docs/STZ_SOLVER_SPEC.md): a 400 Å × 400 Å periodic cell
sheared at 1e8 1/s to γ = 0.5 in 100 frames × 60 quasi-static steps, μ = 20 GPa, ν = 0.35,
athermal STZ law with ε0 = 44.53 and τ0 = 1e-13 s, χ-diffusion length 25.59 Å, T_Z = 21000 K.

The solver works in the original code's units: lengths in ``length_unit_m`` (1 Å), stresses divided
by the yield stress s_y, and time in units of ``t_scale = le / sqrt(μ_phys / ρ0)`` (μ_phys taken as
a bare number in GPa, exactly as the original code does), so that shear waves travel at speed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

#: Fields of :class:`ModelConstants` that may differ from run to run within one batch.
PER_RUN_FIELDS: tuple[str, ...] = (
    "mu_GPa", "poisson", "rho_kg_m3", "tau0_s", "ep", "chi_len_A", "T_Z_K", "adapt_fac",
    "strain_rate_per_s", "chi_energy_factor", "delta_K", "theta_K", "omega_A3", "eps0", "kappa",
    "stz_rho",
)

#: Per-run fields that may be zero (the others but ``poisson`` must be > 0).
NON_NEGATIVE_FIELDS: tuple[str, ...] = ("chi_len_A", "kappa", "stz_rho")

#: The STZ plastic laws ``simulate_batch(dynamics=...)`` offers: the paper's ``athermal`` law (no
#: plastic flow below s̄ = 1) and the original solver's thermally activated ``linear`` law
#: (``stz_dynamics_linear``: flow at every stress, rounded yield); see :mod:`grassego.stz.kernels`.
DYNAMICS: tuple[str, ...] = ("athermal", "linear")

#: Boltzmann constant as the original driver writes it [J/K] (the linear law's Ωε0).
BOLTZMANN_J_PER_K = 1.3806503e-23


@dataclass(frozen=True)
class ModelConstants:
    """Every constant of the STZ model and of its discretisation.

    Grid and time stepping (shared by every run of a batch):

    - ``lx_A``, ``ly_A``: periodic cell edge lengths in the reference frame [Å]; the grid size
      comes from the initial potential-energy field, so dx = lx_A / nx.
    - ``max_strain``: final global shear strain γ [1]; ``n_frames`` output frames, each of
      ``steps_per_frame`` quasi-static steps (dt = t_f / (n_frames · steps_per_frame)).

    Physics (may also be given per run, see :data:`PER_RUN_FIELDS`):

    - ``mu_GPa``: shear modulus [GPa]; the solver uses μ = mu_GPa / s_y.
    - ``poisson``: Poisson's ratio ν [1]; K = 2μ(1+ν) / (3(1−2ν)).
    - ``rho_kg_m3``: density ρ0 [kg/m³] (sets the time unit only).
    - ``length_unit_m``: the solver's length unit le [m] (1 Å).
    - ``strain_rate_per_s``: applied shear rate [1/s].
    - ``tau0_s``: STZ vibration time scale τ0 [s].
    - ``ep``: ε0, the STZ size factor of the plastic rate (ε0/τ0) [1].
    - ``chi_len_A``: χ-diffusion length l_χ [Å].
    - ``T_Z_K``: STZ formation temperature e_Z/k_B [K]; T_eff = χ·T_Z.
    - ``adapt_fac``: largest drop of the deviatoric-stress magnitude s̄ (in units of s_y) in one
      plastic sub-step [1].
    - ``chi_energy_factor``: factor of the original code's energy-to-χ map,
      χ = factor · β (E − E0); its value (k_B[J/K]·eV_per_J / k_B[eV/K] = 1.0000012676) is the
      round-off of the unit constants in the original driver, kept to reproduce its χ exactly.

    Thermally activated (``linear``) law only, with the original driver's defaults (SURGroup/STZ
    ``shear_energy.cc``; unused by the ``athermal`` law; may also be given per run):

    - ``delta_K``: activation barrier Δ·T_Z [K]; ``theta_K``: bath temperature θ·T_Z [K]. The
      rate factor C(s̄) = exp(−Δ/θ) cosh(Ωε0 s̄/θ) and T(s̄) = tanh(Ωε0 s̄/θ).
    - ``omega_A3``: activation volume Ω [Å³]; ``eps0``: the STZ's local strain ε0 [1]. With s̄ in
      units of s_y, Ωε0 = Ω ε0 s_y / (k_B T_Z) [1], so it scales with s_y.
    - ``kappa``: κ, weight of the thermal χ sink κ e^(−1/χ) e^(−Δ/θ) ρ/(τ0 c0) · (0 − χ) [1].
    - ``stz_rho``: ρ of the M function M(s̄) (the thermal-noise term ρ/(2 cosh(Ωε0 s̄/θ))) [1];
      the original driver passes its density value 7270.7 here, and so does this default.

    Validation and failure detection:

    - ``min_final_teff_K``: a run whose β(E_final − E0)·T_Z falls below this anywhere on the grid
      is rejected before it starts (the paper's driver rule) [K].
    - ``diverge_stress``: |stress| / s_y above which a run is declared diverged [1].
    - ``max_substeps``: bound on the plastic sub-steps of one cell in one step; a run that needs
      more is declared diverged [count].
    """

    lx_A: float = 400.0
    ly_A: float = 400.0
    max_strain: float = 0.5
    n_frames: int = 100
    steps_per_frame: int = 60
    mu_GPa: float = 20.0
    poisson: float = 0.35
    rho_kg_m3: float = 6125.0
    length_unit_m: float = 1e-10
    strain_rate_per_s: float = 1e8
    tau0_s: float = 1e-13
    ep: float = 44.52901253
    chi_len_A: float = 25.59275383
    T_Z_K: float = 21000.0
    adapt_fac: float = 2e-3
    chi_energy_factor: float = 1.3806503e-23 * 6.241509e18 / 8.617330350e-5
    delta_K: float = 2000.0
    theta_K: float = 100.0
    omega_A3: float = 75.0
    eps0: float = 0.3
    kappa: float = 0.0
    stz_rho: float = 7270.7
    min_final_teff_K: float = 20.0
    diverge_stress: float = 1e8
    max_substeps: int = 20000

    def __post_init__(self) -> None:
        positive = ("lx_A", "ly_A", "max_strain", "n_frames", "steps_per_frame", "mu_GPa",
                    "rho_kg_m3", "length_unit_m", "strain_rate_per_s", "tau0_s", "ep",
                    "T_Z_K", "adapt_fac", "chi_energy_factor", "diverge_stress", "max_substeps",
                    "delta_K", "theta_K", "omega_A3", "eps0")
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"ModelConstants.{name} must be finite and > 0, got {value!r}")
        for name in NON_NEGATIVE_FIELDS:
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"ModelConstants.{name} must be finite and >= 0, got {value!r}")
        if not -1.0 < self.poisson < 0.5:
            raise ValueError(f"ModelConstants.poisson must lie in (-1, 0.5), got {self.poisson!r}")
        for name in ("n_frames", "steps_per_frame", "max_substeps"):
            if int(getattr(self, name)) != getattr(self, name):
                raise ValueError(f"ModelConstants.{name} must be an integer")

    @property
    def n_steps(self) -> int:
        """Total number of quasi-static steps."""
        return self.n_frames * self.steps_per_frame

    def frame_strains(self) -> list[float]:
        """Global shear strain γ of frames 0 … n_frames [1]."""
        return [self.max_strain * k / self.n_frames for k in range(self.n_frames + 1)]

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
