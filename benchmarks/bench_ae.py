"""Train the default AE config (config/config.yaml ae.archs[ae.arch]) on the real rock tiles (the workflow's blocked,
luminance-stratified split of config/real-tiles.yaml) and print, all measured in this run: the test-split PSNR next
to the mean-colour and 13x13x3 thumbnail baselines, the output range on shadow pixels, and the sample checks of every
sampler (flat fraction; nearest-training-latent distance of samples vs test latents and vs the training latents'
own leave-one-out distance).

    .venv/bin/python benchmarks/bench_ae.py [--steps N] [--out results/bench_ae]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from real_tiles import DEFAULT_TILES, build_real_data  # noqa: E402
from rockzoom.config import ae_arch, load_config  # noqa: E402

from rockzoom.autoencoder.evaluate import eval_autoencoder  # noqa: E402
from rockzoom.autoencoder.latents import extract_latents  # noqa: E402
from rockzoom.autoencoder.prior import fit_prior  # noqa: E402
from rockzoom.autoencoder.sampling import generate_samples  # noqa: E402
from rockzoom.autoencoder.train import train_autoencoder  # noqa: E402
from rockzoom.engine.state import state_dir_for  # noqa: E402
from rockzoom.util.logs import console_logging  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--tiles", default=str(DEFAULT_TILES))
    parser.add_argument("--steps", type=int, default=None, help="override engine.steps (e.g. to fit a CPU budget)")
    parser.add_argument("--batch", type=int, default=None, help="override engine.batch_size")
    parser.add_argument("--out", default="results/bench_ae")
    args = parser.parse_args()
    console_logging()

    config = load_config(args.config)
    name, arch = config["ae"]["arch"], ae_arch(config)
    overrides = {k: v for k, v in (("steps", args.steps), ("batch_size", args.batch)) if v}
    arch = {**arch, "engine": {**arch["engine"], **overrides}}
    out = Path(args.out)
    data = build_real_data(Path(args.tiles), out / "real", [256])[256]
    model_out = out / f"{name}-s256" / "model.pt"
    shutil.rmtree(state_dir_for(model_out), ignore_errors=True)  # always a full, fresh training

    t0 = time.perf_counter()
    train_autoencoder(data, model_out, arch, config.get("seed", 0), progress=False)
    train_s = time.perf_counter() - t0
    speed = pd.read_csv(model_out.parent / "metrics.csv")["images_per_s"].dropna()
    report = eval_autoencoder(model_out, data, out / "test_metrics.json", out / "test_grid.png")

    device = "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)"
    print(f"\nreal rock tiles on {device}, 256 px, test split n={report['n']}; arch {name}, {arch['engine']['steps']} steps of "
          f"batch {arch['engine']['batch_size']}; training {train_s / 60:.1f} min wall, "
          f"{speed.median():.2f} images/s median")
    print(f"{'method':20s} {'PSNR pooled':>11s} {'PSNR mean [95% CI]':>24s} {'PSNR-Y':>7s} {'SSIM':>6s}")
    for method, row in report["metrics"].items():
        ci = f"{row['psnr_mean']:.2f} [{row['psnr_ci_low']:.2f}, {row['psnr_ci_high']:.2f}]"
        print(f"{method:20s} {row['psnr_pooled']:11.2f} {ci:>24s} {row['psnr_y_pooled']:7.2f} {row['ssim']:6.3f}")
    rng = report["autoencoder_range"]
    print(f"AE output range {rng['output_min']}..{rng['output_max']} (input {rng['target_min']}..{rng['target_max']}); "
          f"shadow pixels (input <= 20/255): n={rng['dark_pixels']}, input mean {rng.get('dark_target_mean', float('nan')):.1f}, "
          f"reconstruction mean {rng.get('dark_output_mean', float('nan')):.1f}")

    latents = out / "latents"
    extract_latents(model_out, data, latents)
    fit_prior(latents / "train.npy", latents / "prior.pt", latents / "prior.json", config["prior"], config.get("seed", 0))
    sample_cfg = {k: v for k, v in config["sample"].items() if k != "samplers"}
    print(f"{'sampler':10s} {'flat':>5s} {'nn to train: samples':>21s} {'test':>6s} {'train LOO':>9s} "
          f"{'ratio vs test':>13s} {'vs LOO':>7s} {'values':>8s}")
    for sampler in config["sample"]["samplers"]:
        c = generate_samples(model_out, latents / "prior.pt", latents, sampler, sample_cfg, config.get("seed", 0),
                             out / "samples" / f"{sampler}.npy", out / "samples" / f"{sampler}.png",
                             out / "samples" / f"{sampler}.json")["checks"]
        print(f"{sampler:10s} {c['flat_fraction']:5.0%} {c['nn_train_distance_samples_median']:21.2f} "
              f"{c['nn_train_distance_test_median']:6.2f} {c['nn_train_distance_train_loo_median']:9.2f} "
              f"{c['nn_ratio_samples_to_test']:13.2f} {c['nn_ratio_samples_to_train_loo']:7.2f} "
              f"{c['value_min']:>3d}..{c['value_max']:<3d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
