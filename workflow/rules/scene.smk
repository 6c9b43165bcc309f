# The scene generator (rockzoom.scene): its model, fitted on the training ground; options with start: scene use it.


rule fit_scene_model:
    input:
        summary=paths.dataset_summary("{S}"),
    output:
        model=paths.scene_model("{S}"),
    log:
        "logs/fit_scene_model/s{S}.log",
    benchmark:
        paths.runtime_tsv("fit_scene_model", "s{S}")
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=lambda w: scene_memory_mb(0, rc.scene_fit_param(config)),
        runtime=20,
    params:
        fit=rc.scene_fit_param(config),
        seed=config["seed"],
        model_format=SCENE_MODEL_FORMAT,  # a new file format refits the model
    script:
        "../scripts/fit_scene_model.py"
