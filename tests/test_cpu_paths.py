"""grassego pins the CPU code paths of torch, MKL and OpenBLAS when imported
(grassego.cpu_paths), so that Δ and the EGO history do not depend on the x86-64 processor; a
value the user exported is kept."""

import os
import subprocess
import sys

from grassego.cpu_paths import PINNED

PROBE = ("import grassego, os, torch; torch.ones(4).sum(); "
         "print(torch.backends.cpu.get_cpu_capability()); "
         "print(*(os.environ[k] for k in grassego.cpu_paths.PINNED))")


def _probe(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PINNED}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    return out[:2]


def test_importing_grassego_selects_the_portable_paths():
    capability, values = _probe()
    assert capability == "DEFAULT"
    assert values.split() == list(PINNED.values())


def test_an_exported_value_is_kept():
    capability, values = _probe(ATEN_CPU_CAPABILITY="avx2", MKL_CBWR="AUTO")
    assert capability in ("AVX2", "DEFAULT")  # DEFAULT on a processor without AVX2
    assert values.split()[:2] == ["avx2", "AUTO"]
