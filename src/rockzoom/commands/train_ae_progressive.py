"""`rockzoom train-ae-progressive`: run a progressive-growing chain (ae_variants.progressive.<name>) stage by stage."""
from __future__ import annotations

import argparse
from pathlib import Path

from rockzoom.autoencoder.config_file import read_config, section
from rockzoom.autoencoder.progressive import export_stage, train_progressive_stage

NAME = "train-ae-progressive"
HELP = ("train (or resume) every stage of a progressive chain into <stages-dir>/s{S}/model.pt, skipping finished "
        "stages, and export the last stage as an ordinary AE checkpoint")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True,
                        help="dataset folder of the chain's last size (stage_data: downsampled), e.g. results/data/s512;"
                             " with stage_data: crops, the s{S} folders beside it are used")
    parser.add_argument("--stages-dir", required=True, help="e.g. results/ae_progressive/progressive")
    parser.add_argument("--model-out", required=True, help="export of the last stage, e.g. results/ae/progressive-s512/model.pt")
    parser.add_argument("--config", required=True, help="rockzoom config file (ae_variants.progressive, ae.archs, seed)")
    parser.add_argument("--name", default="progressive", help="chain name in ae_variants.progressive")
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    parser.add_argument("--gpus", type=int, default=0, help="0 = CPU, 1 = one locked GPU slot")


def run(args: argparse.Namespace) -> int:
    config = read_config(args.config)
    chains = section(config, "ae_variants", args.config).get("progressive", {})
    if args.name not in chains:
        raise KeyError(f"{args.config}: ae_variants.progressive has no chain {args.name!r} (available: {sorted(chains)})")
    chain = chains[args.name]
    base = section(config, "ae", args.config)["archs"][chain.get("base", "vit")]
    seed = config.get("seed", 0) if args.seed is None else args.seed
    sizes, data_dir, prev = chain["sizes"], Path(args.data_dir), None
    for i, size in enumerate(sizes):
        stage = {**base, "engine": {**base["engine"], "steps": chain["steps"][i]},
                 "fade_images": chain.get("fade_images", 0) if i > 0 else 0, "size": size}
        if chain.get("token_grids"):
            stage["model"] = {**base["model"], "token_grid": chain["token_grids"][i]}
        stage_data = data_dir if chain.get("stage_data", "downsampled") == "downsampled" \
            else data_dir.with_name(f"s{size}")
        out = Path(args.stages_dir) / f"s{size}" / "model.pt"
        if out.exists():
            print(f"stage {size} px: {out} exists, not retrained")
        else:
            train_progressive_stage(stage_data, out, stage, seed, init_path=prev, gpus=args.gpus)
        prev = out
    export_stage(prev, args.model_out)
    return 0
