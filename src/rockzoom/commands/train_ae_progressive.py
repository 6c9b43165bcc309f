"""`rockzoom train-ae-progressive`: run a progressive-growing chain (ae_variants.progressive.<name>) stage by stage."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import rockzoom.config as rc

logger = logging.getLogger(__name__)

NAME = "train-ae-progressive"
HELP = ("train (or resume) every stage of a progressive chain into <stages-dir>/s{S}/model.pt, skipping finished "
        "stages, and export the last stage as an ordinary AE checkpoint")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", required=True,
                        help="dataset folder of the chain's last size (stage_data: downsampled), e.g. results/data/s512;"
                             " with stage_data: crops, the s{S} folders beside it are used")
    parser.add_argument("--stages-dir", required=True, help="e.g. results/ae_progressive/progressive")
    parser.add_argument("--model-out", required=True, help="export of the last stage, e.g. results/ae/progressive-s512/model.pt")
    rc.add_config_argument(parser, "ae_variants.progressive, ae.archs and seed")
    parser.add_argument("--name", default="progressive", help="chain name in ae_variants.progressive")
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    parser.add_argument("--gpus", type=int, default=0, help="0 = CPU, 1 = one locked GPU slot")


def run(args: argparse.Namespace) -> int:
    from rockzoom.autoencoder.progressive import export_stage, train_progressive_stage

    config = rc.load_cli_config(args)
    chain = rc.progressive_chain(config, args.name)
    seed = config["seed"] if args.seed is None else args.seed
    sizes, data_dir, prev = chain["sizes"], Path(args.data_dir), None
    for size in sizes:
        stage = rc.progressive_stage(config, args.name, size)  # the same stage settings as the workflow's rule
        stage_data = data_dir.with_name(f"s{rc.progressive_stage_data_size(config, args.name, size)}") \
            if chain["stage_data"] == "crops" else data_dir
        out = Path(args.stages_dir) / f"s{size}" / "model.pt"
        if out.exists():
            logger.info(f"stage {size} px: {out} exists, not retrained")
        else:
            train_progressive_stage(stage_data, out, stage, seed, init_path=prev, gpus=args.gpus)
        prev = out
    export_stage(prev, args.model_out)
    return 0
