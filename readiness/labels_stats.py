"""How much fixing one training label would change a model: the influence of a label flip.

For an L2-regularised logistic regression (scikit-learn's objective ``0.5‖W‖² + C·Σ log-loss``,
intercept not penalised) the Hessian of the objective does not depend on the labels, so changing
row j's label from y to y' changes only the gradient, by ``C·(e_y − e_y') ⊗ x̃_j`` (x̃ = x with a 1
for the intercept). One Newton step from the fitted parameters — the influence-function
approximation of Koh & Liang (ICML 2017), exact to first order — gives the change in parameters
``Δθ = −H⁻¹·C·(e_y − e_y') ⊗ x̃_j`` without refitting. The influence of the flip is the mean change
of the predicted class probabilities it causes over reference rows (total variation
``½·Σ_c |Δp_c|``, which for two classes is ``|Δp(positive)|``): in probability points, what a
reviewer's fix would move. A row far out in feature space (high leverage, large ``x̃ᵀH⁻¹x̃``)
moves the fit more than one in the bulk. ``tests/test_labels_stats.py`` compares it to the exact
refit with the label flipped."""

from __future__ import annotations

import warnings

import numpy as np

from readiness.stats import welch

INFLUENCE_C = 1.0  # scikit-learn's inverse regularisation strength for the influence model
REFERENCE_ROWS = 2000  # rows over which the change of predictions is averaged (a seeded sample above this)
# classes × (features + 1) above this: the Hessian is too costly, no influence. Measured on the shared 2-core
# machine, one thread, 20,000 rows and 3,000 suspects: 301 parameters 6 s, 701 parameters 7 s, 10 classes × 61
# parameters 13 s (fit and influence)
MAX_PARAMETERS = 800
CHUNK = 256  # flips evaluated at once (memory: reference rows × classes × chunk)


def fit_influence_model(X: np.ndarray, y: np.ndarray, *, C: float = INFLUENCE_C):
    """The L2-regularised logistic regression whose label flips are measured (tight tolerance:
    the Newton step starts from its optimum)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=C, tol=1e-10, max_iter=2000)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model


def _params(model) -> np.ndarray:
    """Parameters as (K, d+1): one row of weights and intercept per logit (K = 1 for two classes)."""
    return np.hstack([model.coef_, model.intercept_[:, None]])


def _with_one(X: np.ndarray) -> np.ndarray:
    return np.hstack([X, np.ones((len(X), 1))])


def _hessian(Xt: np.ndarray, P: np.ndarray, C: float, binary: bool) -> np.ndarray:
    """Hessian of ``0.5‖W‖² + C·Σ log-loss`` at the fit, parameters flattened row-major from (K, d+1)."""
    D = Xt.shape[1]
    if binary:
        p = P[:, 1]
        H = C * (Xt * (p * (1 - p))[:, None]).T @ Xt
    else:
        K = P.shape[1]
        H = np.zeros((K * D, K * D))
        for a in range(K):
            for b in range(a, K):
                w = P[:, a] * ((a == b) - P[:, b])
                block = C * (Xt * w[:, None]).T @ Xt
                H[a * D:(a + 1) * D, b * D:(b + 1) * D] = block
                H[b * D:(b + 1) * D, a * D:(a + 1) * D] = block.T
    penalty = np.ones(D)
    penalty[-1] = 0.0  # the intercept is not penalised
    H[np.diag_indices_from(H)] += np.tile(penalty, H.shape[0] // D)
    return H


def _probabilities(Z: np.ndarray, binary: bool) -> np.ndarray:
    """Class probabilities from logits; Z is (n, K, m): K logits per row for m parameter sets."""
    if binary:
        p1 = 1.0 / (1.0 + np.exp(-Z[:, 0, :]))
        return np.stack([1 - p1, p1], axis=1)
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def influence_feasible(n_features: int, n_classes: int) -> bool:
    """Whether the Hessian is small enough to build and invert in about a second."""
    return (1 if n_classes == 2 else n_classes) * (n_features + 1) <= MAX_PARAMETERS


def flip_influence(model, X: np.ndarray, y: np.ndarray, rows: np.ndarray, new_labels: np.ndarray, *,
                   reference: np.ndarray | None = None, C: float = INFLUENCE_C) -> np.ndarray:
    """For each ``rows[i]``, the mean change of predicted class probabilities (total variation, in
    probability units 0–1) over the ``reference`` rows of ``X`` (all rows when None) when that row's
    label ``y[rows[i]]`` is changed to ``new_labels[i]`` — one Newton step from the fit of ``model``
    on ``X``, ``y`` (``fit_influence_model``). Labels are class indices 0..K−1 (``model.classes_``)."""
    from scipy.linalg import pinvh

    X = np.asarray(X, dtype=float)
    rows = np.asarray(rows, dtype=int)
    new_labels = np.asarray(new_labels, dtype=int)
    y_fit = np.asarray(y, dtype=int)
    classes = len(model.classes_)
    binary = classes == 2
    theta = _params(model)
    Xt = _with_one(X)
    P_fit = model.predict_proba(X)
    H_inv = pinvh(_hessian(Xt, P_fit, C, binary))
    ref = Xt if reference is None else Xt[np.asarray(reference, dtype=int)]
    Z0 = ref @ theta.T  # (n_ref, K)
    P0 = _probabilities(Z0[:, :, None], binary)[:, :, 0]
    out = np.zeros(len(rows))
    K, D = theta.shape
    for start in range(0, len(rows), CHUNK):
        r = rows[start:start + CHUNK]
        old, new = y_fit[r], new_labels[start:start + CHUNK]
        if binary:  # gradient change C·(y − y')·x̃ for the positive-class logit
            G = (C * (old - new))[:, None] * Xt[r]  # (m, D)
        else:
            E = np.zeros((len(r), K))
            E[np.arange(len(r)), old] += 1.0
            E[np.arange(len(r)), new] -= 1.0
            G = (C * E[:, :, None] * Xt[r][:, None, :]).reshape(len(r), K * D)
        dtheta = -(G @ H_inv).reshape(len(r), K, D)  # Newton step per flip
        dZ = np.einsum("nd,mkd->nkm", ref, dtheta)
        P1 = _probabilities(Z0[:, :, None] + dZ, binary)
        out[start:start + len(r)] = 0.5 * np.abs(P1 - P0[:, :, None]).sum(axis=1).mean(axis=0)
    return out


def refit_influence(X: np.ndarray, y: np.ndarray, row: int, new_label, *, reference: np.ndarray | None = None,
                    C: float = INFLUENCE_C) -> float:
    """The exact counterpart of ``flip_influence`` for one row: refit with the label changed and
    measure the same mean total-variation change (for tests and benchmarks; slow)."""
    base = fit_influence_model(X, y, C=C)
    y2 = np.asarray(y).copy()
    y2[row] = new_label
    flipped = fit_influence_model(X, y2, C=C)
    R = X if reference is None else X[np.asarray(reference, dtype=int)]
    return float(0.5 * np.abs(flipped.predict_proba(R) - base.predict_proba(R)).sum(axis=1).mean())


def priority(given_probability: np.ndarray, influence: np.ndarray) -> np.ndarray:
    """Which suspects to check first: the chance the label is wrong, 1 − P(given label) out of fold,
    times how much fixing it would move the model (``flip_influence``), in probability points × 1."""
    return (1.0 - np.asarray(given_probability, dtype=float)) * np.asarray(influence, dtype=float)


# --- cleanlab's confident-joint rule (labels.calibrated_issue_count) ---------------------------


def class_thresholds(y: np.ndarray, P: np.ndarray, n_classes: int) -> np.ndarray:
    """cleanlab's per-class confidence thresholds: the mean probability of class k among rows labelled k
    (clipped below at cleanlab's lower bound; 2, never reached, for a class with no row)."""
    from cleanlab.count import CONFIDENT_THRESHOLDS_LOWER_BOUND

    present = np.bincount(y, minlength=n_classes) > 0
    return np.clip([np.mean(P[:, k][y == k]) if present[k] else 2 for k in range(n_classes)],
                   a_min=CONFIDENT_THRESHOLDS_LOWER_BOUND, a_max=None)


def confident_guess(P: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's confident-joint rule per row: (the likely true class, whether any class is confident).
    The confident classes reach their threshold; of several, the likeliest; of one, that one."""
    confident = P >= thresholds - 1e-6
    n_confident = confident.sum(axis=1)
    guess = np.where(n_confident > 1, P.argmax(axis=1), confident.argmax(axis=1))
    return guess, n_confident > 0


# --- training labels against holdout labels: the shortfall gap ----------------------------------
#
# Confident learning cannot tell a wrong label from a case ambiguous by nature (docs/checks.md), but it
# can compare two sets of labels judged alike. Each training row is judged by the fold model that did
# not see it; each holdout row by one of the same fold models (assigned at random), which did not see it
# either. So when training and holdout labels come from one process, a training row and a holdout row
# are exchangeable before their judge. Per row, the *shortfall* is the probability the judge expects a
# label drawn from its own probabilities to get (Σ_c P_c²) minus the probability it gives the given
# label: 0 on average when labels behave as the judge expects, whatever the mix of easy and hard rows.
# The judge learns from the training labels, so their shortfall is about 0; wrong labels in the training
# data alone leave the holdout's labels *better* than the judge expects (negative shortfall). The gap —
# training minus holdout — is about ρ(1 − 2ρ) for a share ρ of two classes flipped on separable data.


def shortfall(P: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row: Σ_c P_c² (the probability the judge expects the label to get) minus P_given."""
    return np.einsum("ij,ij->i", P, P) - P[np.arange(len(y)), y]


def shortfall_gap(train: np.ndarray, holdout: np.ndarray) -> dict:
    """The training rows' mean shortfall minus the holdout rows', with Welch's 95% interval (two
    independent means: :func:`readiness.stats.welch`)."""
    d, ci, _ = welch(train, holdout)
    return {"gap": d, "ci": ci}
