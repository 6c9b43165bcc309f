"""metrics.csv rows and the training-curve figure."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def write_metrics(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    if "step" in frame:
        frame = frame.groupby("step", as_index=False, sort=True).first()
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def read_metrics(path: Path, up_to_step: int) -> list[dict]:
    if not path.exists():
        return []
    frame = pd.read_csv(path)
    frame = frame[frame["step"] <= up_to_step]
    return [{k: v for k, v in row.items() if pd.notna(v)} for row in frame.to_dict("records")]


def plot_curve(rows: list[dict], val_key: str, path: Path, title: str) -> None:
    frame = pd.DataFrame(rows)
    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(10, 3.5))
    if "loss" in frame and frame["loss"].notna().any():
        part = frame[frame["loss"].notna()]
        ax_loss.plot(part["step"], part["loss"], label="train loss")
        if (part["loss"] > 0).all():
            ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_title("training loss")
    for key in sorted(c for c in frame.columns if c.startswith("val_")):
        part = frame[frame[key].notna()]
        if len(part):
            ax_val.plot(part["step"], part[key], marker="o", ms=3, label=key, lw=2 if key == val_key else 1)
    ax_val.set_xlabel("step")
    ax_val.set_title(f"validation (model kept on {val_key})")
    if ax_val.lines:
        ax_val.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
