rule split_blocks:
    input:
        index=rules.index_tiles.output.index,
    output:
        blocks=paths.TILE_BLOCKS,
        fit=paths.SPLIT_FIT,
    log:
        "logs/split_blocks.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        split=config["split"],
        sizes=config["dataset"]["sizes"],
        min_valid=config["dataset"]["min_valid"],
        zoom=config["tiles"]["zoom"],
        seed=config["seed"],
        needs=rc.split_needs(config),
    script:
        "../scripts/split_blocks.py"


rule build_dataset:
    input:
        index=rules.index_tiles.output.index,
        blocks=rules.split_blocks.output.blocks,
        fit=rules.split_blocks.output.fit,
    output:
        summary=paths.dataset_summary("{S}"),
        arrays=multiext(
            paths.dataset_dir("{S}", file=""),
            "train_images.npy",
            "train_masks.npy",
            "val_images.npy",
            "val_masks.npy",
            "test_images.npy",
            "test_masks.npy",
        ),
        samples=multiext(
            paths.dataset_dir("{S}", file=""),
            "train_samples.csv",
            "val_samples.csv",
            "test_samples.csv",
        ),
    log:
        "logs/build_dataset/s{S}.log",
    benchmark:
        paths.runtime_tsv("build_dataset", "s{S}")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    # every dataset before any training job: a size the tree cannot support then stops its targets before any
    # training starts, whatever the timing of the jobs already running
    priority: 10
    resources:
        mem_mb=lambda w: 2000 + int(w.S) ** 2 * 3 * 40 // 2**20,
        runtime=20,
    params:
        min_valid=config["dataset"]["min_valid"],
        guard_tiles=config["split"]["guard_tiles"],
        max_pixels=config["tiles"]["max_pixels"],
        max_samples=config["dataset"]["max_samples"],
        seed=config["seed"],
    script:
        "../scripts/build_dataset.py"


rule datasets:
    input:
        all_datasets(),
