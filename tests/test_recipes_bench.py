"""The recipe ablation (benchmarks/recipes.py) and the presets-over-seeds check, at tiny budgets."""
from __future__ import annotations

import json
from pathlib import Path

import benchmarks.common
from benchmarks import presets_over_seeds, recipes


def test_metrics_of_keeps_both_classifiers_and_judges_by_the_lower():
    result = {"model": "x", "n": 100, "class_accuracy": 0.95, "judge_class_accuracy": 0.91,
              "classifier_frechet_distance": 12.5, "judge_frechet_distance": 0.4, "class_counts": [1, 2],
              "judged_by": {"class_accuracy": "judge"}, "relative_frechet_distance": 0.02, "flag": True}
    got = recipes.metrics_of(result)
    assert got["judged_class_accuracy"] == 0.91
    assert got["class_accuracy"] == 0.95 and got["judge_frechet_distance"] == 0.4
    assert got["relative_frechet_distance"] == 0.02  # an unknown FD key still comes through
    assert "n" not in got and "flag" not in got and "class_counts" not in got
    one = recipes.metrics_of({"class_accuracy": 0.8, "classifier_frechet_distance": 30.0})
    assert one["judged_class_accuracy"] == 0.8  # only one classifier: judged by it


def test_targets_and_table_from_rows():
    rows = [{"recipe": "new-default", "budget_s": 60.0, "steps": 3000, "class_accuracy": 0.93,
             "judge_class_accuracy": 0.89, "judged_class_accuracy": 0.89, "classifier_frechet_distance": 50.0},
            {"recipe": "new-default", "budget_s": 180.0, "steps": 9000, "class_accuracy": 0.97,
             "judge_class_accuracy": 0.96, "judged_class_accuracy": 0.96, "classifier_frechet_distance": 30.0},
            {"recipe": "old-default", "budget_s": 60.0, "steps": 3000, "class_accuracy": 0.5,
             "judged_class_accuracy": 0.5, "classifier_frechet_distance": 900.0}]
    targets = recipes.check_targets(rows, {"classifier_frechet_distance": 12.0})
    assert targets["accuracy_90%_within_60s"] == {"value": 0.89, "met": False}  # judged by the lower
    assert targets["accuracy_97%_within_300s"] == {"value": None, "met": None}  # 300 s was not run
    assert targets["classifier_frechet_distance_at_180s"]["ratio"] == 2.5
    assert targets["classifier_frechet_distance_at_180s"]["met"] is True
    assert targets["judge_frechet_distance_at_180s"] is None  # not reported: not judged
    table = recipes.markdown(rows, {"classifier_frechet_distance": 12.0})
    lines = table.splitlines()
    assert lines[0].startswith("| recipe | budget s | steps | acc (classifier) | acc (judge) | acc (lower) |")
    assert "| old-default | 60 | 3000 | 50.0% | — | 50.0% | 900 |" in lines
    assert lines[-1].startswith("| shipped mnist-cgan |") and "| 12 |" in lines[-1]


def test_plan_runs_saves_shorter_budgets_on_the_way_except_for_budget_schedules():
    by_slug = {r.slug: r for r in recipes.RECIPES}
    runs = recipes.plan_runs([by_slug["old-default"], by_slug["new-default"], by_slug["cgan-progan"]],
                             [60.0, 180.0, 600.0], {"new-default": (300.0,)})
    plan = {(r.recipe.slug, r.seconds): r.save_at for r in runs}
    decaying = recipes.plan_runs([by_slug["lr-decay"]], [60.0, 180.0], {})
    assert [(r.seconds, r.save_at) for r in decaying] == [(180.0, ()), (60.0, ())]  # its lr follows the budget
    assert plan[("old-default", 600.0)] == (60.0, 180.0)
    assert plan[("new-default", 600.0)] == (60.0, 180.0, 300.0)
    assert {k: v for k, v in plan.items() if k[0] == "cgan-progan"} == {
        ("cgan-progan", 60.0): (), ("cgan-progan", 180.0): (), ("cgan-progan", 600.0): ()}
    assert len(runs) == 5 and runs[0].seconds == 600.0 and runs[-1].seconds == 60.0  # longest first
    assert [b for b, _ in runs[0].checkpoints(Path("/x"))] in ([60.0, 180.0, 600.0], [60.0, 180.0, 300.0, 600.0])


def test_recipes_runs_gan_train_and_eval_at_a_tiny_budget(mnist_dir, tmp_path, monkeypatch):
    """One recipe for 2 s on 512 images: the real commands, their numbers in the JSON and the table."""
    monkeypatch.setattr(benchmarks.common, "RESULTS", tmp_path)
    out = recipes.main(["--budgets", "1,2", "--recipes", "new-default", "--no-target-budgets",
                        "--data-limit", "512", "--n", "100", "--reference", "", "--name", "recipes_test"])
    assert not out["failed"], out["failed"]
    early, row = out["rows"]  # one 2 s run, its checkpoint at 1 s evaluated too
    assert early["budget_s"] == 1 and early["saved_from_run_of_s"] == 2 and 0 < early["steps"] < row["steps"]
    assert row["recipe"] == "new-default" and row["budget_s"] == 2 and row["saved_from_run_of_s"] is None
    assert row["config"]["model"] == "cgan-mlp-proj" and row["config"]["ema_decay"] == 0.999
    assert 0 <= row["class_accuracy"] <= 1 and row["classifier_frechet_distance"] > 0
    assert row["judged_class_accuracy"] <= row["class_accuracy"]
    saved = json.loads((tmp_path / "recipes_test.json").read_text())
    assert saved["rows"] == out["rows"] and "| new-default | 2 |" in saved["markdown"]
    assert saved["targets"]["accuracy_90%_within_60s"]["met"] is None  # 60 s was not run


def test_rescore_keeps_the_rows_and_recomputes_the_targets(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmarks.common, "RESULTS", tmp_path)
    rows = [{"recipe": "new-default", "budget_s": 60.0, "steps": 3000, "class_accuracy": 0.95,
             "judge_class_accuracy": 0.92, "judged_class_accuracy": 0.92, "classifier_frechet_distance": 50.0}]
    (tmp_path / "r.json").write_text(json.dumps({
        "benchmark": "recipes", "n": 100, "seed": 0, "dataset": "mnist", "rows": rows, "target_met": None,
        "targets": {}, "markdown": "stale", "hardware": {"cpu": "x"}}))
    out = recipes.main(["--rescore", "--reference", "", "--name", "r"])
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["rows"] == rows and saved["hardware"] == {"cpu": "x"} and "rescored" in saved
    assert saved["targets"]["accuracy_90%_within_60s"] == {"value": 0.92, "met": True}
    assert saved["markdown"] != "stale" and "| new-default | 60 | 3000 |" in saved["markdown"]
    assert out["target_met"] is None  # 300 s and the reference were not measured


def test_presets_over_seeds_reports_modes_per_seed(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmarks.common, "RESULTS", tmp_path)
    out = presets_over_seeds.main(["--seeds", "2", "--window", "1,2", "--checks", "3",
                                   "--presets", "ring8-nonsaturating", "--rates", "ring8-nonsaturating=40",
                                   "--name", "presets_test"])
    rows = out["rows"]
    assert [r["seed"] for r in rows] == [0, 1] and out["rates_steps_per_cpu_s"] == {"ring8-nonsaturating": 40.0}
    assert all(r["first_step"] == 40 and r["last_step"] == 80 for r in rows)
    assert all([s for s, _ in r["modes"]] == [40, 60, 80] for r in rows)
    assert all(0 <= m <= 8 for r in rows for _, m in r["modes"])
    assert out["kept_by_preset"]["ring8-nonsaturating"] == all(r["min_modes"] == 8 for r in rows)
    assert (tmp_path / "presets_test.json").is_file()
