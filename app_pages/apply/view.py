"""Drawing the Apply experiment's results: accuracy with error bars, the verdict, a confusion matrix."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from gan_core.teach.synthetic import ExperimentResult


def accuracy_frame(result: ExperimentResult) -> pd.DataFrame:
    rows = [{"arm": arm.label, "mean": 100 * arm.mean, "low": 100 * (arm.mean - arm.std),
             "high": 100 * (arm.mean + arm.std), "std": 100 * arm.std} for arm in result.arms.values()]
    return pd.DataFrame(rows)


def accuracy_chart(result: ExperimentResult) -> alt.LayerChart:
    """Mean test accuracy per arm, error bars = ± one standard deviation over seeds."""
    data = accuracy_frame(result)
    scale = alt.Scale(domain=[0, 100])
    bars = alt.Chart(data, height=240, width=320).mark_bar(size=60).encode(
        x=alt.X("arm:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
        y=alt.Y("mean:Q", title="test accuracy (%)", scale=scale),
        color=alt.Color("arm:N", legend=None),
        tooltip=["arm:N", alt.Tooltip("mean:Q", format=".2f"), alt.Tooltip("std:Q", format=".2f")])
    errors = alt.Chart(data).mark_errorbar(ticks=True, color="black").encode(
        x="arm:N", y=alt.Y("low:Q", scale=scale, title="test accuracy (%)"), y2="high:Q")
    return alt.layer(bars, errors)


def confusion_frame(confusion: np.ndarray, class_names: tuple[str, ...]) -> pd.DataFrame:
    """Row-normalised confusion matrix (% of each true class) as a long table."""
    totals = confusion.sum(1, keepdims=True).clip(min=1)
    share = 100 * confusion / totals
    rows = [{"true": class_names[i], "predicted": class_names[j], "percent": float(share[i, j]),
             "count": int(confusion[i, j])} for i in range(len(class_names)) for j in range(len(class_names))]
    return pd.DataFrame(rows)


def confusion_chart(confusion: np.ndarray, class_names: tuple[str, ...]) -> alt.LayerChart:
    data = confusion_frame(confusion, class_names)
    order = list(class_names)
    base = alt.Chart(data, height=360, width=360).encode(
        x=alt.X("predicted:N", sort=order), y=alt.Y("true:N", sort=order))
    rect = base.mark_rect().encode(color=alt.Color("percent:Q", scale=alt.Scale(scheme="blues", domain=[0, 100])),
                                   tooltip=["true:N", "predicted:N", alt.Tooltip("percent:Q", format=".1f"), "count:Q"])
    text = base.mark_text(fontSize=9).encode(
        text=alt.Text("percent:Q", format=".0f"),
        color=alt.condition(alt.datum.percent > 50, alt.value("white"), alt.value("black")))
    return alt.layer(rect, text)


def show_result(result: ExperimentResult) -> None:
    """Table, chart, verdict and confusion matrix of a finished experiment."""
    kind, sentence = result.verdict()
    {"helped": st.success, "hurt": st.error, "unclear": st.warning}[kind](sentence)
    c1, c2 = st.columns([3, 2])
    c1.dataframe(pd.DataFrame(result.table()), hide_index=True, column_config={
        "mean accuracy %": st.column_config.NumberColumn(format="%.2f"),
        "± std %": st.column_config.NumberColumn(format="%.2f")})
    c2.altair_chart(accuracy_chart(result), width="content")
    cfg = result.config
    st.caption(f"{result.generator_name} on {result.dataset}: {cfg.real_per_class} real + "
               f"{cfg.synthetic_per_class} synthetic images per class (ψ = {cfg.truncation:.2f}), {cfg.seeds} seeds, "
               f"{cfg.steps} training steps of batch {cfg.batch_size}{' with random shifts' if cfg.augment else ''}, "
               f"tested on {result.n_test} held-out real images. Error bars: ± one "
               f"standard deviation over seeds. Took {result.seconds:.1f} s ({result.cpu_seconds:.1f} s of CPU time).")
    if result.generator_class_accuracy is not None:
        st.caption(f"Generator check: the project's classifier recognises {100 * result.generator_class_accuracy:.1f}% "
                   "of the synthetic images as the class they were generated for.")
    arm_name = st.radio("Confusion matrix of", list(result.arms), horizontal=True, key="ap_confusion_arm",
                        format_func=lambda name: result.arms[name].label)
    arm = result.arms[arm_name]
    st.altair_chart(confusion_chart(arm.confusion, result.class_names), width="content")
    st.caption(f"Rows: true class; columns: predicted; % of each true class, summed over {len(arm.accuracies)} seeds.")
