"""Recipe ablation for conditional MNIST: the old default, each step toward the new one, and alternatives.

For every recipe it runs what a user would run, `gan train --dataset mnist --seconds B [the recipe's flags]`,
once at its longest budget B with `--save-at-seconds` for the shorter ones (nothing in such a run depends on
its budget, so the checkpoint at 60 s of a 600 s run is the 60 s run's; growing models, whose schedule follows
the budget, run once per budget), then `gan eval --json` of each checkpoint, and keeps what eval reports
from both classifiers (the project classifier and the independent judge): class accuracy and Fréchet
distance. A generator is judged by the lower accuracy.

The issue-19 targets, checked on the new default (the recipe with no flags): at least 90% class accuracy on
both classifiers within 60 s and 97% within 300 s, and at 180 s a Fréchet distance within 3x the shipped
mnist-cgan's (from each classifier, same n and seed). The new default also runs at TARGET_BUDGETS.

Writes benchmarks/results/recipes.json and prints a Markdown table (for benchmarks/RESULTS.md).
Run: python -m benchmarks.recipes [--budgets 60,180,600] [--recipes old-default,new-default] [--n 2000]
[--parallel 2]. Total time is about (recipes x the longest budget + growing recipes x the others) / parallel,
plus ~40 s per checkpoint for evaluation. `--parallel 2` on 2 cores gives each run one core (the default
trainer uses one torch thread on 2 cores anyway); evaluations wait until every run has finished.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchmarks.common
from benchmarks.common import REPO, hardware, write_result
from gan_core.cli.train import add_train_args, config_from_args

TARGET_BUDGETS = (60.0, 180.0, 300.0)  # the budgets the targets name
ACCURACY_TARGETS = ((60.0, 0.90), (300.0, 0.97))  # (budget s, lowest class accuracy of the two classifiers)
FD_TARGET_BUDGET, FD_TARGET_RATIO = 180.0, 3.0
REFERENCE_MODEL = "mnist-cgan"  # the shipped model the Fréchet-distance target is relative to

# Columns, in order, when eval reports them; any other numeric "*accuracy*" / "*frechet*" key is added after.
KNOWN_METRICS = (
    ("class_accuracy", "acc (classifier)"), ("judge_class_accuracy", "acc (judge)"),
    ("judged_class_accuracy", "acc (lower)"), ("classifier_frechet_distance", "FD (classifier)"),
    ("judge_frechet_distance", "FD (judge)"), ("modes_covered", "modes"), ("high_quality", "high quality"))


@dataclass(frozen=True)
class Recipe:
    slug: str
    what: str
    flags: tuple[str, ...]  # `gan train` flags on top of --dataset/--seconds; () = the defaults


OLD_DEFAULT = ("--model", "cgan-mlp", "--lr", "2e-4", "--ema-decay", "0", "--batch-size", "64",
               "--loss", "nonsaturating")
RECIPES = (
    Recipe("old-default", "cgan-mlp, Adam 2e-4, no EMA (the default before issue 19)", OLD_DEFAULT),
    Recipe("ema", "+ EMA 0.999 of G's weights (with warm-up)", ("--model", "cgan-mlp", "--lr", "2e-4",
                                                               "--ema-decay", "0.999")),
    Recipe("lr", "+ Adam 5e-4 for G and D", ("--model", "cgan-mlp", "--lr", "5e-4", "--ema-decay", "0.999")),
    Recipe("proj", "+ projection discriminator (cgan-mlp-proj), D at 5e-4 like G", ("--lr-d", "5e-4")),
    Recipe("new-default", "+ a slower D (Adam 2e-4 for D, 5e-4 for G): the new default, no flags", ()),
    Recipe("lr-decay", "new default, both lrs falling linearly to 0 over the last half of the budget",
           ("--lr-decay", "0.5")),
    Recipe("lr-decay-all", "new default, both lrs falling linearly to 0 over the whole budget", ("--lr-decay", "1")),
    Recipe("augment", "new default with DiffAugment (translation + cutout) on D's inputs, real and fake",
           ("--augment",)),
    Recipe("ttur", "new default with TTUR: D at 1e-3, G at 5e-4", ("--lr-d", "1e-3")),
    Recipe("batch128", "new default at batch 128, Adam 7e-4", ("--batch-size", "128", "--lr", "7e-4")),
    Recipe("hinge", "new default with the hinge loss", ("--loss", "hinge")),
    Recipe("cgan-dcgan", "conv generator + projection conv discriminator, Adam 2e-4, EMA", ("--model", "cgan-dcgan")),
    Recipe("cgan-progan", "progressive growing 7->14->28 with fade-in, EMA", ("--model", "cgan-progan")),
)


def run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a `gan` command in the repository; its stdout, or RuntimeError with the end of its stderr."""
    done = subprocess.run(cmd, cwd=str(REPO), capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:5])}... exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return done.stdout


def evaluate(model: str, n: int, seed: int, threads: int | None = None) -> dict[str, Any]:
    """`gan eval --json` of a checkpoint; `threads` caps its torch threads (when runs share the cores)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)} if threads else None
    out = run([sys.executable, "-m", "gan_core", "eval", "--model", model, "--n", str(n), "--seed", str(seed),
               "--json"], timeout=900, env=env)
    return json.loads(out.strip().splitlines()[-1])


def metrics_of(result: dict[str, Any]) -> dict[str, float]:
    """The numeric quality figures of one eval result: KNOWN_METRICS first, then other accuracy/FD keys."""
    out = {key: float(result[key]) for key, _ in KNOWN_METRICS if _number(result.get(key))}
    for key, value in result.items():
        if key not in out and _number(value) and ("accuracy" in key or "frechet" in key):
            out[key] = float(value)
    accuracies = [v for k, v in out.items() if k.endswith("class_accuracy") and k != "judged_class_accuracy"]
    if accuracies:
        out["judged_class_accuracy"] = min(accuracies + [out.get("judged_class_accuracy", 1.0)])
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class TrainRun:
    """One `gan train` run of a recipe: `seconds` long, also saved at each of `save_at` (shorter budgets)."""

    recipe: Recipe
    seconds: float
    save_at: tuple[float, ...] = ()

    def checkpoints(self, folder: Path) -> list[tuple[float, Path]]:
        out = folder / f"{self.recipe.slug}-{self.seconds:g}"
        return [(b, out / f"generator-at-{b:g}s") for b in self.save_at] + [(self.seconds, out / "generator")]


def follows_budget(recipe: Recipe, dataset: str = "mnist") -> bool:
    """Whether this recipe's schedule depends on its budget (TrainConfig.follows_budget), read from its flags
    the way `gan train` reads them."""
    parser = argparse.ArgumentParser()
    add_train_args(parser)
    args = parser.parse_args(["--dataset", dataset, "--seconds", "1", "--out", "-", *recipe.flags])
    return config_from_args(args).follows_budget()


def plan_runs(recipes: list[Recipe], budgets: list[float], extra: dict[str, tuple[float, ...]],
              dataset: str = "mnist") -> list[TrainRun]:
    """One run per recipe at its longest budget, saved at the shorter ones on the way, when nothing in the
    run depends on its budget; a growing model's or a decaying lr's schedule does, so it runs once per budget."""
    runs = []
    for recipe in recipes:
        wanted = sorted(set(budgets) | set(extra.get(recipe.slug, ())))
        if follows_budget(recipe, dataset):
            runs += [TrainRun(recipe, b) for b in wanted]
        else:
            runs.append(TrainRun(recipe, wanted[-1], tuple(wanted[:-1])))
    return sorted(runs, key=lambda r: -r.seconds)  # longest first, so parallel slots finish together


def train(run_: TrainRun, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    out = folder / f"{run_.recipe.slug}-{run_.seconds:g}"
    cmd = [sys.executable, "-m", "gan_core", "train", "--dataset", args.dataset, "--seconds", f"{run_.seconds:g}",
           "--seed", str(args.seed), "--out", str(out), "--no-progress", *run_.recipe.flags]
    if run_.save_at:
        cmd += ["--save-at-seconds", ",".join(f"{b:g}" for b in run_.save_at)]
    if args.parallel > 1:
        cmd += ["--num-threads", "1"]  # one core each
    if args.data_limit:
        cmd += ["--data-limit", str(args.data_limit)]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    run(cmd, timeout=run_.seconds + 900)
    return {"wall_s": round(time.perf_counter() - started, 1), "loadavg_1m_before": round(load_before, 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2), "runs_at_once": args.parallel}


def row_of(run_: TrainRun, budget: float, checkpoint: Path, info: dict[str, Any],
           args: argparse.Namespace) -> dict[str, Any]:
    meta = json.loads(checkpoint.with_suffix(".json").read_text())
    result = evaluate(str(checkpoint), args.n, args.seed, threads=1 if args.parallel > 1 else None)
    row = {"recipe": run_.recipe.slug, "budget_s": budget, "steps": meta.get("steps"),
           "images_seen": meta.get("images_seen"), "train_seconds": meta.get("train_seconds"),
           "command": meta.get("command"), "config": {k: meta["config"].get(k) for k in (
               "model", "loss", "batch_size", "lr_g", "lr_d", "ema_decay", "r1_gamma", "augment")},
           "saved_from_run_of_s": run_.seconds if budget != run_.seconds else None, **info, **metrics_of(result)}
    print(json.dumps(row), flush=True)
    return row


def run_all(runs: list[TrainRun], args: argparse.Namespace, folder: Path) -> tuple[list[dict], list[dict]]:
    """Train every run (`args.parallel` at a time), then evaluate every checkpoint (as many at a time)."""
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    trained: list[tuple[TrainRun, dict[str, Any]]] = []
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = {pool.submit(train, r, args, folder): r for r in runs}
        for future, r in futures.items():
            try:
                trained.append((r, future.result()))
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                print(f"{r.recipe.slug} for {r.seconds:g}s failed: {exc}", file=sys.stderr)
                failed.append({"recipe": r.recipe.slug, "budget_s": r.seconds, "error": str(exc)[-400:]})
    jobs = [(r, b, path, info) for r, info in trained for b, path in r.checkpoints(folder)]
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = {pool.submit(row_of, r, b, path, info, args): (r, b) for r, b, path, info in jobs}
        for future, (r, b) in futures.items():
            try:
                rows.append(future.result())
            except (RuntimeError, subprocess.TimeoutExpired, OSError, json.JSONDecodeError) as exc:
                print(f"{r.recipe.slug} at {b:g}s not evaluated: {exc}", file=sys.stderr)
                failed.append({"recipe": r.recipe.slug, "budget_s": b, "error": str(exc)[-400:]})
    order = {r.slug: i for i, r in enumerate(RECIPES)}
    rows.sort(key=lambda row: (order[row["recipe"]], row["budget_s"]))
    return rows, failed


def check_targets(rows: list[dict[str, Any]], reference: dict[str, float] | None) -> dict[str, Any]:
    """The issue-19 targets on the new default's run at each target budget; None where it was not measured."""
    new = {r["budget_s"]: r for r in rows if r["recipe"] == "new-default"}
    out: dict[str, Any] = {}
    for budget, target in ACCURACY_TARGETS:
        value = new.get(budget, {}).get("judged_class_accuracy")
        out[f"accuracy_{target:.0%}_within_{budget:g}s"] = {"value": value, "met": None if value is None
                                                            else value >= target}
    at = new.get(FD_TARGET_BUDGET)
    for key in ("classifier_frechet_distance", "judge_frechet_distance"):
        if at is None or reference is None or key not in at or key not in reference:
            out[f"{key}_at_{FD_TARGET_BUDGET:g}s"] = None
            continue
        ratio = at[key] / max(reference[key], 1e-12)
        out[f"{key}_at_{FD_TARGET_BUDGET:g}s"] = {"value": at[key], "reference": reference[key],
                                                  "ratio": round(ratio, 2), "met": ratio <= FD_TARGET_RATIO}
    return out


def markdown(rows: list[dict[str, Any]], reference: dict[str, float] | None = None) -> str:
    """One row per (recipe, budget), a column per KNOWN_METRICS entry any run reported (the JSON has the rest)."""
    keys = [k for k, _ in KNOWN_METRICS if any(k in r for r in rows)]
    labels = dict(KNOWN_METRICS)
    head = ["recipe", "budget s", "steps"] + [labels[k] for k in keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["recipe"], f"{r['budget_s']:g}", str(r.get("steps", ""))]
        cells += [_cell(k, r.get(k)) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    if reference:
        cells = [f"shipped {REFERENCE_MODEL}", "", ""] + [_cell(k, reference.get(k)) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if "accuracy" in key or key == "high_quality":
        return f"{100 * value:.1f}%"
    return f"{value:g}" if key == "modes_covered" else f"{value:.3g}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="60,180,600", help="training seconds, comma-separated")
    parser.add_argument("--recipes", default=",".join(r.slug for r in RECIPES),
                        help=f"comma-separated, from: {', '.join(r.slug for r in RECIPES)}")
    parser.add_argument("--no-target-budgets", action="store_true",
                        help=f"do not also run the new default at {', '.join(f'{b:g}' for b in TARGET_BUDGETS)} s")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-limit", type=int, help="train on the first N images only (quick checks)")
    parser.add_argument("--n", type=int, default=2000, help="samples per evaluation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=1,
                        help="train this many runs at once, one torch thread each (2 on 2 cores: one core a run)")
    parser.add_argument("--reference", default=REFERENCE_MODEL, help="shipped model for the FD target ('' = none)")
    parser.add_argument("--name", default="recipes", help="result name: benchmarks/results/NAME.json")
    parser.add_argument("--rescore", action="store_true",
                        help="train nothing: re-measure the reference and recompute the targets of results/NAME.json")
    args = parser.parse_args(argv)
    if args.rescore:
        return rescore(args)
    try:
        budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    except ValueError:
        parser.error(f"--budgets must be numbers of seconds, got {args.budgets!r}")
    by_slug = {r.slug: r for r in RECIPES}
    unknown = [s for s in args.recipes.split(",") if s not in by_slug]
    if unknown or not budgets or any(b <= 0 for b in budgets):
        parser.error(f"unknown recipe(s) {', '.join(unknown)}" if unknown else "--budgets must be positive")
    recipes = [by_slug[s] for s in args.recipes.split(",")]
    extra = {} if args.no_target_budgets else {"new-default": TARGET_BUDGETS}
    with tempfile.TemporaryDirectory(prefix="recipes-") as tmp:
        rows, failed = run_all(plan_runs(recipes, budgets, extra), args, Path(tmp))
    reference = evaluate_reference(args)
    table = markdown(rows, reference)
    print(table)
    targets = check_targets(rows, reference)
    return write_result(args.name, {
        "target_met": overall(targets),
        "dataset": args.dataset, "budgets_s": budgets, "runs_at_once": args.parallel, "n": args.n, "seed": args.seed,
        "data_limit": args.data_limit, "recipes": {r.slug: {"what": r.what, "flags": list(r.flags)} for r in recipes},
        "rows": rows, "failed": failed, "reference": {"model": args.reference, **(reference or {})},
        "targets": targets, "markdown": table, "hardware": hardware()})


def evaluate_reference(args: argparse.Namespace) -> dict[str, float] | None:
    """The shipped model the Fréchet-distance target is relative to, measured like the rows; None if none."""
    if not args.reference or args.dataset != "mnist":
        return None
    try:
        return metrics_of(evaluate(args.reference, args.n, args.seed))
    except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        print(f"reference {args.reference} not evaluated: {exc}", file=sys.stderr)
        return None


def overall(targets: dict[str, Any]) -> bool | None:
    verdicts = [t["met"] for t in targets.values() if t is not None and t["met"] is not None]
    return all(verdicts) if len(verdicts) == len(targets) else None


def rescore(args: argparse.Namespace) -> dict[str, Any]:
    """Measure the reference again and recompute the targets and table of a finished run (after the shipped
    model it is relative to was replaced); the rows are kept as they were measured."""
    old = json.loads((benchmarks.common.RESULTS / f"{args.name}.json").read_text())
    args.n, args.seed, args.dataset = old["n"], old["seed"], old["dataset"]
    reference = evaluate_reference(args)
    rows = old["rows"]
    targets = check_targets(rows, reference)
    table = markdown(rows, reference)
    print(table)
    old.pop("benchmark", None)
    return write_result(args.name, {**old, "target_met": overall(targets), "targets": targets, "markdown": table,
                                    "reference": {"model": args.reference, **(reference or {})},
                                    "rescored": f"reference re-measured {time.strftime('%Y-%m-%d %H:%M')}"})

if __name__ == "__main__":
    main()
