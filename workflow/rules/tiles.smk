rule demo_tiles:
    output:
        tiles=directory(paths.DEMO_TILES),
    log:
        "logs/demo_tiles.log",
    benchmark:
        paths.runtime_tsv("demo_tiles", "demo")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        demo=config["demo"],
        zoom=config["tiles"]["zoom"],
        seed=config["seed"],
    script:
        "../scripts/demo_tiles.py"


rule index_tiles:
    input:
        demo_tiles_input,
    output:
        index=paths.TILE_INDEX,
        rejected="results/tiles/rejected.csv",
    log:
        "logs/index_tiles.log",
    benchmark:
        paths.runtime_tsv("index_tiles", "index")
    conda:
        "../../envs/rockzoom.yaml"
    threads: workflow.cores
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        tile_dir=tile_dir(),
        zoom=config["tiles"]["zoom"],
        scheme=config["tiles"]["scheme"],
        source=config["tiles"]["source"],
        max_pixels=config["tiles"]["max_pixels"],
    script:
        "../scripts/index_tiles.py"


rule inspect_tiles:
    input:
        index=rules.index_tiles.output.index,
        rejected=rules.index_tiles.output.rejected,
    output:
        coverage=report(
            paths.tile_inspect("coverage.png"),
            caption="../report/inspect_tiles.rst",
            category="Tiles",
            labels={"what": "coverage map and split blocks"},
        ),
        histograms=report(
            paths.tile_inspect("histograms.png"),
            caption="../report/inspect_tiles.rst",
            category="Tiles",
            labels={"what": "valid fraction and brightness"},
        ),
        summary=paths.tile_inspect("summary.json"),
        text=paths.tile_inspect("summary.md"),
    log:
        "logs/inspect_tiles.log",
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        tile_dir=tile_dir(),
        zoom=config["tiles"]["zoom"],
        scheme=config["tiles"]["scheme"],
        sizes=config["dataset"]["sizes"],
        min_valid=config["dataset"]["min_valid"],
        split=config["split"],
        seed=config["seed"],
        target_needs=rc.all_target_needs(config),
    script:
        "../scripts/inspect_tiles.py"
