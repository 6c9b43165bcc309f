rule demo_tiles:
    output:
        tiles=directory(paths.DEMO_TILES),
    log:
        "logs/demo_tiles.log",
    benchmark:
        paths.runtime_tsv("demo_tiles", "demo")
    conda:
        "../../envs/rockzoom.yaml"
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
    conda:
        "../../envs/rockzoom.yaml"
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
