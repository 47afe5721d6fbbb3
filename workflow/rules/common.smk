# Shared helpers for the rules: result paths, batches, seeds, and the parameters each rule
# depends on (so that changing, e.g., only the EGO budget reruns only the EGO and report rules).

import json

RESULTS = config["results"]
BATCHES = list(range(config["design"]["n_batches"]))
SEEDS = list(config["ego"]["seeds"])


def res(path):
    """Path under the configured results directory."""
    return f"{RESULTS}/{path}"


def canonical(obj):
    """A stable string of a config section (used as a rule param: reruns when it changes)."""
    return json.dumps(obj, sort_keys=True)


SOLVER_SETTINGS = canonical(
    {"solver": config["solver"], "fixed": config.get("fixed", {})}
)
OBJECTIVE_SETTINGS = canonical(config["objective"])
