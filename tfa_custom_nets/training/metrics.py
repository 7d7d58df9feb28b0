"""A run's metrics: the metrics log (`metrics.csv` and TensorBoard), the learning-curve plot, and the machine and
memory figures results are quoted with."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import tensorflow as tf

METRIC_FIELDS = ["env_steps", "updates", "train_seconds", "eval_mean", "eval_std", "eval_min",
                 "eval_max", "train_return", "epsilon", "loss", "env_steps_per_s", "rss_mb"]


def rss_mb() -> float:
    """This process's resident memory in MiB (Linux `/proc`; NaN elsewhere)."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return float("nan")
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _number(text: str):
    if text in ("", "None"):
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


class MetricsLog:
    """Appends rows to `metrics.csv` and the same scalars to TensorBoard.

    `resume_before=N` continues an existing log: rows from env step N on (written after the
    checkpoint being resumed, so about to be redone) are dropped, the rest kept.
    """

    def __init__(self, run_dir: Path, resume_before: int | None = None):
        self.rows: list[dict] = []
        self._csv_path = run_dir / "metrics.csv"
        if resume_before is not None and self._csv_path.exists():
            try:
                with self._csv_path.open(newline="") as f:
                    reader = csv.DictReader(f)
                    if reader.fieldnames != METRIC_FIELDS:
                        raise ValueError(f"its header is {reader.fieldnames}, expected {METRIC_FIELDS}")
                    rows = [{k: _number(v) for k, v in row.items()} for row in reader]
            except (ValueError, TypeError, csv.Error) as error:
                raise ValueError(f"cannot resume: {self._csv_path} is not the metrics file this run wrote ({error}). "
                                 "Restore it, or move it away to resume without the evaluations before the "
                                 "checkpoint.") from error
            self.rows = [row for row in rows if row["env_steps"] < resume_before]
        tmp = self._csv_path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, METRIC_FIELDS)
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(tmp, self._csv_path)
        self._writer = tf.summary.create_file_writer(str(run_dir / "tensorboard"))

    def add(self, row: dict) -> None:
        row = {k: row.get(k) for k in METRIC_FIELDS}
        self.rows.append(row)
        with self._csv_path.open("a", newline="") as f:
            csv.DictWriter(f, METRIC_FIELDS).writerow(row)
        with self._writer.as_default(step=row["env_steps"]):
            for key, value in row.items():
                if key != "env_steps" and value is not None and math.isfinite(value):
                    tf.summary.scalar(key, value)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def plot_learning_curve(rows: list[dict], threshold: float | None, title: str, path: Path) -> None:
    """Greedy eval mean +- std and the training return, against env steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["env_steps"] for r in rows]
    mean = [r["eval_mean"] for r in rows]
    std = [r["eval_std"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, mean, marker="o", label="greedy eval mean")
    ax.fill_between(steps, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)],
                    alpha=0.2)
    train = [(r["env_steps"], r["train_return"]) for r in rows if r["train_return"] is not None]
    if train:
        ax.plot(*zip(*train), alpha=0.6, label="training return (last 10 episodes)")
    if threshold is not None:
        ax.axhline(threshold, color="gray", linestyle="--", label=f"threshold {threshold:g}")
    ax.set(xlabel="env steps", ylabel="episode return", title=title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def machine() -> dict:
    """The machine a result came from: CPU model, cores, Python and TensorFlow versions."""
    import platform

    import tensorflow as tf

    cpuinfo = Path("/proc/cpuinfo")
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")), "") if cpuinfo.exists() else ""
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "platform": platform.platform()}
