"""Population-level explanations with SHAP: what drives predicted risk, where, and how needs
combine. Computed on a seeded sample of families, with the sampling uncertainty reported;
nothing is published for identifiable families (tables are means over groups)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._limits import DISCLOSURE_MIN_CELL, MIN_EXPLANATION_SUPPORT
from .._publish import DisclosureRules, publish_count
from .._text import as_text
from ._interactions import InteractionValues, interaction_rows, interaction_table

__all__ = ["PopulationExplanation", "StartedExplanation", "explain_model", "start_explanation"]


def _unwrap(model: Any) -> Any:
    """The fitted risk model inside a calibration wrapper (attributions explain its
    log-odds; isotonic calibration is a monotone map applied after)."""
    return getattr(model, "model_", model)


def in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: a plain-English label loses its capital,
    a column name (one word, as an analyst spelt it) is kept as it is.

    >>> in_sentence("Domestic abuse"), in_sentence("MumMentalHealth")
    ('domestic abuse', 'MumMentalHealth')
    """
    first, _, rest = label.partition(" ")
    if rest and first[1:] == first[1:].lower():
        return first[:1].lower() + first[1:] + " " + rest
    return label


@dataclass(eq=False)
class PopulationExplanation:
    """SHAP attributions on a seeded sample and their population-level summaries.

    Attributes
    ----------
    explanation : shap.Explanation
        Attributions on the log-odds scale for the sampled families, with plain-English
        feature names. In memory only.
    importance : pandas.DataFrame
        ``feature, label, mean_abs, lower, upper, relative_se``: global importance (mean
        absolute attribution) with a bootstrap interval over the sample.
    by_segment : pandas.DataFrame
        ``segment, group, n_sampled, feature, label, mean_attribution, supported``: what
        drives risk in each authority, deprivation decile, indicator band and family type
        (``supported``: at least ``MIN_EXPLANATION_SUPPORT`` sampled families).
    interactions : pandas.DataFrame or None
        ``feature_a, feature_b, label_a, label_b, mean_abs_interaction,
        mean_interaction_when_both`` with its bootstrap interval ``when_both_lower,
        when_both_upper``, ``n_both_sampled`` and ``supported`` (at least
        ``MIN_EXPLANATION_SUPPORT`` families: only those are headlined) on families with
        two or more recorded needs (LightGBM only; a logistic model is additive).
    """

    explanation: Any
    importance: pd.DataFrame
    by_segment: pd.DataFrame
    interactions: pd.DataFrame | None
    sample_size: int
    model_kind: str
    details: dict[str, Any] = field(default_factory=dict)

    def top(self, n: int = 10) -> pd.DataFrame:
        return self.importance.head(n)

    def summary(self, n: int = 3, rules: DisclosureRules | None = None) -> list[str]:
        """Plain-English sentences for the model card, generated from the numbers (the
        number of sampled families as published, :func:`publish_count`)."""
        sampled = publish_count(self.sample_size, rules)
        imp = self.importance
        total = imp["mean_abs"].sum()
        if not total > 0:  # no feature moves any prediction (a constant indicator alone)
            return [
                "No driver of predicted risk can be named: the model's predictions do not "
                "vary with any of its features on the sampled families (a feature that is "
                "constant, or a model that learned nothing)."
            ]
        top = imp.head(n)
        share = top["mean_abs"].sum() / total
        labels = [in_sentence(x) for x in top["label"]]
        names = ", ".join(labels[:-1]) + (f" and {labels[-1]}" if len(labels) > 1 else labels[0])
        lines = [
            f"The strongest drivers of predicted risk are {names}: together {share:.0%} of "
            f"the total attribution (mean absolute SHAP value on the log-odds scale, "
            f"{'fewer than 10' if sampled is None else f'{sampled:,.0f}'} sampled families).",
        ]
        r = imp.iloc[0]
        lines.append(
            f"The top driver, {in_sentence(r.label)}, moves a family's log-odds of escalation by "
            f"{r.mean_abs:.2f} on average ({r.lower:.2f} to {r.upper:.2f})."
        )
        combined = self.combined_needs()
        if combined is not None:
            i = self.headline_pair()
            if i is not None:
                lines.append(
                    "Needs combine: where a family has both "
                    f"{in_sentence(i.label_a)} and {in_sentence(i.label_b)}, the model adds "
                    f"{i.mean_interaction_when_both:+.2f} ({i.when_both_lower:+.2f} to "
                    f"{i.when_both_upper:+.2f}) to the log-odds beyond the two needs on their "
                    "own, the largest such effect among pairs of indicators recorded together "
                    f"in at least {MIN_EXPLANATION_SUPPORT} sampled families "
                    f"(about {publish_count(int(i.n_both_sampled), rules):,.0f} here) with an "
                    "interval clear of zero."
                )
            else:
                lines.append(
                    "No combined need is headlined: no pair of indicators was recorded together "
                    f"in {MIN_EXPLANATION_SUPPORT} or more sampled families with an interval "
                    "clear of zero."
                )
        return lines

    def combined_needs(self, indicators: list[str] | None = None) -> pd.DataFrame | None:
        """Pairs of indicators ranked by the extra log-odds when a family has both."""
        if self.interactions is None:
            return None
        t = self.interactions.dropna(subset=["mean_interaction_when_both"])
        if indicators is not None:
            t = t[t.feature_a.isin(indicators) & t.feature_b.isin(indicators)]
        return t.sort_values("mean_interaction_when_both", ascending=False, ignore_index=True)

    # ------------------------------------------------------------------ plots
    def plot_importance(self, n: int = 15, ax: Any = None) -> Any:
        """Mean absolute attribution of the top ``n`` features, with intervals."""
        import matplotlib.pyplot as plt

        t = self.importance.head(n).iloc[::-1]
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(t) + 1.2))
        else:
            fig = ax.figure
        y = np.arange(len(t))
        ax.barh(y, t["mean_abs"], color="tab:blue", alpha=0.75)
        ax.errorbar(
            t["mean_abs"],
            y,
            xerr=[t["mean_abs"] - t["lower"], t["upper"] - t["mean_abs"]],
            fmt="none",
            color="black",
            capsize=2,
        )
        ax.set_yticks(y, t["label"], fontsize=8)
        ax.set(
            xlabel="Mean |SHAP value| (log-odds), 95% interval", title="What drives predicted risk"
        )
        fig.tight_layout()
        return fig

    def headline_pair(self) -> Any:
        """The combined need the summary headlines (the largest supported pair whose
        interval is clear of zero), or None."""
        combined = self.combined_needs()
        if combined is None:
            return None
        clear = (combined["when_both_lower"] > 0) | (combined["when_both_upper"] < 0)
        supported = combined[combined["supported"] & clear]
        return supported.iloc[0] if len(supported) else None

    def plot_interactions(self, n: int = 10, ax: Any = None) -> Any:
        """Heatmap of mean absolute interactions among the ``n`` most important features,
        and the headlined pair's two features wherever they rank (their cells outlined)."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle

        if self.interactions is None:
            raise ValueError("this model has no interaction attributions (it is additive)")
        pair = self.headline_pair()
        shown = self.importance.head(n)
        if pair is not None:
            wanted = [pair.feature_a, pair.feature_b]
            extra = self.importance[self.importance.feature.isin(wanted)]
            shown = pd.concat([shown, extra[~extra.feature.isin(shown.feature)]])
        top = shown["feature"].tolist()
        labels = shown["label"].tolist()
        mat = np.zeros((len(top), len(top)))
        lookup = {
            (a, b): v
            for a, b, v in zip(
                self.interactions.feature_a,
                self.interactions.feature_b,
                self.interactions.mean_abs_interaction,
                strict=True,
            )
        }
        for i, a in enumerate(top):
            for j, b in enumerate(top):
                if i != j:
                    mat[i, j] = lookup.get((a, b), lookup.get((b, a), 0.0))
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 6))
        else:
            fig = ax.figure
        im = ax.imshow(mat, cmap="Reds")
        ax.set_xticks(range(len(top)), labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(top)), labels, fontsize=7)
        fig.colorbar(im, ax=ax, label="mean |interaction| (log-odds)")
        title = "How needs combine"
        if pair is not None and pair.feature_a in top and pair.feature_b in top:
            i, j = top.index(pair.feature_a), top.index(pair.feature_b)
            for x, y in ((j, i), (i, j)):
                ax.add_patch(
                    Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="black", lw=2)
                )
            title += " (outlined: the pair the card headlines)"
        ax.set_title(title, fontsize=9)
        fig.tight_layout()
        return fig

    def plot_dependence(self, n: int = 4) -> Any:
        """Mean attribution by value (present, absent, not known) for the top drivers:
        aggregates, not families."""
        import matplotlib.pyplot as plt

        top = self.importance.head(n)
        fig, axes = plt.subplots(1, len(top), figsize=(3 * len(top), 3), squeeze=False)
        values = self.explanation.values
        data = self.explanation.data
        names = list(self.details["feature_names"])
        for ax, row in zip(axes[0], top.itertuples(index=False), strict=True):
            j = names.index(row.feature)
            x, v = data[:, j], values[:, j]
            groups = {"absent": x == 0, "present": x == 1, "not known": np.isnan(x)}
            if not set(np.unique(x[~np.isnan(x)])) <= {0.0, 1.0}:
                q = np.unique(np.quantile(x[~np.isnan(x)], [0, 0.25, 0.5, 0.75, 1.0]))
                groups = {
                    f"<= {b:g}": (x <= b) & (x > a) if i else x <= b
                    for i, (a, b) in enumerate(zip(np.r_[-np.inf, q[:-1]], q, strict=True))
                }
            keep = {k: m for k, m in groups.items() if m.sum() >= DISCLOSURE_MIN_CELL}
            ax.bar(list(keep), [v[m].mean() for m in keep.values()], color="tab:blue")
            ax.axhline(0, color="grey", linewidth=0.8)
            ax.set_title(row.label, fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
        axes[0, 0].set_ylabel("mean SHAP value (log-odds)")
        fig.tight_layout()
        return fig

    def plot_beeswarm(self, max_display: int = 12) -> Any:
        """SHAP's beeswarm of the sampled families (for the analyst's notebook; not written
        by ``run``, since each dot is one family)."""
        import matplotlib.pyplot as plt
        import shap

        shap.plots.beeswarm(self.explanation, max_display=max_display, show=False)
        return plt.gcf()


def _segments(frame: pd.DataFrame, roles: Any) -> dict[str, pd.Series]:
    from ..population import add_segments

    seg = add_segments(frame, roles)
    out: dict[str, pd.Series] = {}
    if roles.area:
        out[roles.area[-1]] = as_text(frame[roles.area[-1]])
    if roles.deprivation and roles.deprivation in frame.columns:
        out[roles.deprivation] = frame[roles.deprivation].astype("string")
    out["n_think_family_band"] = as_text(seg["n_think_family_band"])
    if "family_type" in seg.columns:
        out["family_type"] = seg["family_type"].astype("string")
    return out


def _attributions(explainer: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values and one base value per row (log-odds scale)."""
    raw = explainer(X)
    base = np.asarray(raw.base_values, dtype=float).reshape(-1)
    if base.size == 1:
        base = np.full(X.shape[0], base[0])
    return np.asarray(raw.values), base


def _lightgbm_attributions(
    booster: Any, X: np.ndarray, one_thread: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """TreeSHAP values and base values (log-odds) of a LightGBM booster (on one thread, or
    on the booster's own number of threads). The numbers do not depend on the threads."""
    kwargs = {"num_threads": 1} if one_thread else {}
    out = np.asarray(booster.predict(X, pred_contrib=True, **kwargs))
    return out[:, :-1], out[:, -1]


def explain_model(
    model: Any,
    frame: pd.DataFrame,
    roles: Any = None,
    *,
    sample_size: int = 10_000,
    interaction_sample: int = 1000,
    n_bootstrap: int = 500,
    random_state: int = 0,
) -> PopulationExplanation:
    """Explain a fitted LightGBM or logistic model at population level.

    Parameters
    ----------
    model : LightGBMRiskClassifier, LogisticRiskClassifier or CalibratedRiskClassifier
        Fitted on a frame in column roles.
    frame : pandas.DataFrame
        Families to explain (a seeded sample of ``sample_size`` is drawn).
    sample_size : int, default=10_000
        Families sampled for attributions; the importance table reports the sampling error.
    interaction_sample : int, default=1000
        Families with two or more recorded needs sampled for pairwise interaction
        attributions (LightGBM; 0 to skip).

    Examples
    --------
    >>> from escalation_model.datasets import make_synthetic_population
    >>> from escalation_model.models import LightGBMRiskClassifier
    >>> pop = make_synthetic_population(20_000, random_state=0)
    >>> gbm = LightGBMRiskClassifier(n_estimators=50).fit(pop.frame, pop.frame["escalated"])
    >>> ex = explain_model(gbm, pop.frame, sample_size=2_000, interaction_sample=0)
    >>> ex.importance.columns.tolist()[:3]
    ['feature', 'label', 'mean_abs']
    """
    return start_explanation(
        model,
        frame,
        roles,
        sample_size=sample_size,
        interaction_sample=interaction_sample,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    ).finish()


def start_explanation(
    model: Any,
    frame: pd.DataFrame,
    roles: Any = None,
    *,
    sample_size: int = 10_000,
    interaction_sample: int = 1000,
    n_bootstrap: int = 500,
    random_state: int = 0,
    fork: bool = False,
) -> StartedExplanation:
    """:func:`explain_model` in two steps: the samples are drawn and encoded now, and with
    ``fork=True`` the interaction values start in a forked process (see
    ``_interactions``); :meth:`StartedExplanation.finish` does the rest. The result is
    the same as :func:`explain_model`'s."""
    from ..models import LightGBMRiskClassifier, LogisticRiskClassifier
    from ..schema import ColumnRoles

    roles = roles or ColumnRoles()
    inner = _unwrap(model)
    encoder = getattr(inner, "encoder_", None)
    if encoder is None:
        raise ValueError("explain_model needs a model fitted on a DataFrame in column roles")
    if not isinstance(inner, LightGBMRiskClassifier | LogisticRiskClassifier):
        raise TypeError(f"no explainer for {type(inner).__name__}")
    rng = np.random.default_rng(random_state)
    n = min(sample_size, len(frame))
    idx = np.sort(rng.choice(len(frame), size=n, replace=False))
    sample = frame.iloc[idx]
    started = StartedExplanation(
        inner, frame, roles, sample, encoder.transform(sample), rng, n_bootstrap, random_state
    )
    if isinstance(inner, LightGBMRiskClassifier) and interaction_sample:
        import shap

        rows = interaction_rows(frame, roles, interaction_sample, rng)
        if rows.size:
            X = encoder.transform(frame.iloc[rows])
            explainer = shap.TreeExplainer(inner.booster_model_.booster_)
            started.interactions = (X, InteractionValues(explainer, X, forked=fork))
        started.interaction_sample = interaction_sample
    return started


@dataclass(eq=False)
class StartedExplanation:
    """An explanation whose samples are drawn (:func:`start_explanation`)."""

    model: Any
    frame: pd.DataFrame
    roles: Any
    sample: pd.DataFrame
    X: np.ndarray
    rng: np.random.Generator
    n_bootstrap: int
    random_state: int
    interaction_sample: int = 0
    interactions: tuple[np.ndarray, InteractionValues] | None = None

    def abandon(self) -> None:
        """Not wanted any more (the run stopped): a forked process is ended."""
        if self.interactions is not None:
            self.interactions[1].abandon()

    def finish(self) -> PopulationExplanation:
        """The attributions and their summaries."""
        from ..models import LightGBMRiskClassifier

        encoder = self.model.encoder_
        names, labels = list(encoder.get_feature_names_out()), list(encoder.labels_)
        if isinstance(self.model, LightGBMRiskClassifier):
            values, base, interactions = self._lightgbm(names, labels)
            data, kind = self.X, "lightgbm"
        else:
            values, base, data = self._logistic(names, labels)
            interactions, kind = None, "logistic"
        return _summarised(self, values, base, data, names, labels, interactions, kind)

    def _lightgbm(
        self, names: list[str], labels: list[str]
    ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | None]:
        # For a LightGBM model shap's TreeExplainer returns LightGBM's own TreeSHAP
        # (pred_contrib), which releases the GIL, while shap's interaction values hold it
        # and use one core. So the attributions are asked of LightGBM directly, on one
        # thread, beside the interactions: the same numbers as shap's (tested), in about
        # two thirds of the time on two cores.
        booster = self.model.booster_model_.booster_
        with ThreadPoolExecutor(max_workers=1) as pool:
            attributions = pool.submit(
                _lightgbm_attributions, booster, self.X, one_thread=bool(self.interaction_sample)
            )
            table = None
            if self.interactions is not None:
                X, pending = self.interactions
                table = interaction_table(X, pending.get(), names, labels)
            values, base = attributions.result()
        return values, base, table

    def _logistic(
        self, names: list[str], labels: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import shap

        pipe, encoder = self.model.pipeline_, self.model.encoder_
        imputer, scaler, lr = (pipe.named_steps[k] for k in ("impute", "scale", "model"))
        full = np.asarray(imputer.transform(self.X))
        if imputer.indicator_ is not None:
            for j in imputer.indicator_.features_:
                names.append(f"{names[j]} not known")
                labels.append(f"{labels[j]}: not known")
        Z = np.asarray(scaler.transform(full))
        frame = self.frame
        bg_rows = self.rng.choice(len(frame), size=min(2000, len(frame)), replace=False)
        bg_full = np.asarray(imputer.transform(encoder.transform(frame.iloc[bg_rows])))
        explainer = shap.LinearExplainer(lr, np.asarray(scaler.transform(bg_full)))
        values, base = _attributions(explainer, Z)
        return values, base, full


def _summarised(
    started: StartedExplanation,
    values: np.ndarray,
    base: np.ndarray,
    data: np.ndarray,
    names: list[str],
    labels: list[str],
    interactions: pd.DataFrame | None,
    kind: str,
) -> PopulationExplanation:
    """Importance with its sampling interval, drivers by segment, and the explanation."""
    import shap

    rng, n_bootstrap, sample, roles = (
        started.rng,
        started.n_bootstrap,
        started.sample,
        started.roles,
    )
    n = len(sample)
    explanation = shap.Explanation(values=values, base_values=base, data=data, feature_names=labels)
    # global importance with a bootstrap interval over the sample
    absval = np.abs(values)
    mean_abs = absval.mean(axis=0)
    w = rng.poisson(1.0, size=(n_bootstrap, n)).astype(float)
    reps = (w @ absval) / w.sum(axis=1, keepdims=True)
    lo, hi = np.quantile(reps, [0.025, 0.975], axis=0)
    importance = pd.DataFrame(
        {
            "feature": names,
            "label": labels,
            "mean_abs": mean_abs,
            "lower": lo,
            "upper": hi,
            "relative_se": reps.std(axis=0) / np.where(mean_abs > 0, mean_abs, np.nan),
            "mean_attribution": values.mean(axis=0),
        }
    ).sort_values("mean_abs", ascending=False, ignore_index=True)
    # mean attribution by segment, aggregates only
    rows = []
    for seg_name, seg in _segments(sample, roles).items():
        codes = seg.to_numpy(dtype=object)
        for group in sorted({g for g in codes if g is not None and g is not pd.NA}, key=str):
            mask = codes == group
            count = int(mask.sum())
            if count < DISCLOSURE_MIN_CELL:
                continue
            means = values[mask].mean(axis=0)
            for j in range(len(names)):
                rows.append((seg_name, str(group), count, names[j], labels[j], means[j]))
    by_segment = pd.DataFrame(
        rows, columns=["segment", "group", "n_sampled", "feature", "label", "mean_attribution"]
    )
    # a segment's drivers from fewer sampled families are shown, flagged, never headlined
    by_segment["supported"] = by_segment["n_sampled"] >= MIN_EXPLANATION_SUPPORT
    return PopulationExplanation(
        explanation=explanation,
        importance=importance,
        by_segment=by_segment,
        interactions=interactions,
        sample_size=n,
        model_kind=kind,
        details={
            "feature_names": names,
            "sample_rows": n,
            "random_state": started.random_state,
            "interaction_sample": started.interaction_sample if kind == "lightgbm" else 0,
        },
    )
