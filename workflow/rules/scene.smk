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


rule sample_scenes:
    input:
        model=paths.scene_model("{S}"),
    output:
        images=paths.scene_samples("{S}", "{size}"),
        records=paths.scene_samples("{S}", "{size}", "json"),
    log:
        "logs/sample_scenes/s{S}-{size}px.log",
    benchmark:
        paths.runtime_tsv("sample_scenes", "s{S}-{size}px")
    conda:
        "../../envs/rockzoom.yaml"
    resources:
        mem_mb=lambda w: scene_memory_mb(int(w.size), rc.scene_fit_param(config), config["scene"]["synthesis"]),
        runtime=60,
    params:
        draw=rc.scene_draw_param(config),
        n=lambda w: rc.scene_sample_count(config, int(w.size)),
        seed=config["seed"],
    script:
        "../scripts/sample_scenes.py"
