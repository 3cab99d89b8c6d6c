"""A sweep's results: every trial's parameters and result, ranked; the missing and failed named."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from .settings import ClusterError
from .sweep import TRIALS_FILE, load_trials, trial_dir


def collect(output: Path) -> dict:
    """Every trial of the sweep (its trials.json says how many) with its state: done (result.json),
    failed (error.json), stopped (checkpointed, waiting for its requeue or retry) or missing."""
    if not (output / TRIALS_FILE).is_file():
        raise ClusterError(
            f"no {output / TRIALS_FILE}: not a sweep's output folder, or no trial has started yet"
        )
    trials = load_trials(output / TRIALS_FILE)
    rows, missing, failed, stopped = [], [], [], []
    for index, params in enumerate(trials):
        folder = trial_dir(output, index)
        try:
            result = json.loads((folder / "result.json").read_text())
        except (OSError, ValueError):
            error = read_json(folder / "error.json")
            if error is None:
                missing.append(index)
            elif error.get("stopped"):
                stopped.append(index)
            else:
                failed.append(index)
            continue
        rows.append({"index": index, "params": params, "objective": result.get("objective"),
                     "metrics": result.get("metrics", {}), "resumed": result.get("resumed", 0)})
    return {"output": str(output), "trials": len(trials), "done": len(rows), "rows": rows,
            "missing": missing, "failed": failed, "stopped": stopped}


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def unfinished(summary: dict) -> list[int]:
    return sorted(summary["missing"] + summary["failed"] + summary["stopped"])


def summarize(output: Path, metric: str | None = None, maximize: bool = False) -> dict:
    """Rank the finished trials by metric (default: each result's own objective) and write
    summary.json and summary.csv beside them."""
    summary = collect(output)
    rows = summary["rows"]
    metric = metric or next((r["objective"] for r in rows if r["objective"]), None)

    def score(row):
        value = row["metrics"].get(metric)
        if not isinstance(value, (int, float)) or math.isnan(value):
            return math.inf
        return -value if maximize else value

    rows.sort(key=score)
    summary.update(
        metric=metric, goal="maximize" if maximize else "minimize", best=rows[0] if rows else None
    )
    (output / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    params = sorted({key for row in rows for key in row["params"]})
    metrics = sorted({key for row in rows for key in row["metrics"]})
    with open(output / "summary.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", *params, *metrics])
        for row in rows:
            writer.writerow([row["index"], *(row["params"].get(k, "") for k in params),
                             *(row["metrics"].get(k, "") for k in metrics)])
    return summary


def render_summary(summary: dict) -> str:
    done, total = summary["done"], summary["trials"]
    state = "all done" if done == total else f"NOT FINISHED: {total - done} to go"
    lines = [f"{done}/{total} trials done in {summary['output']} ({state};"
             f" sorted by {summary['metric']}, {summary['goal']})"]
    for row in summary["rows"]:
        value = row["metrics"].get(summary["metric"])
        params = " ".join(f"{k}={v}" for k, v in row["params"].items())
        resumed = f"  (resumed {row['resumed']}x)" if row.get("resumed") else ""
        lines.append(f"  {row['index']:4d}  {summary['metric']}={value}  {params}{resumed}")
    if summary["missing"]:
        lines.append(f"missing (not run yet, or lost): {summary['missing']}")
    if summary["stopped"]:
        lines.append(f"stopped with a checkpoint (requeued or retried next): {summary['stopped']}")
    if summary["failed"]:
        lines.append(f"failed (see trials/NNNN/error.json and the logs): {summary['failed']}")
    if unfinished(summary):
        lines.append("resubmit these alone: python3 cluster resubmit OUTPUT")
    return "\n".join(lines)
