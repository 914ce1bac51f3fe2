"""The nine MLOps anti-patterns (Muralidhar et al., 2021) the review scores."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AntiPattern:
    id: str
    title: str
    question: str


ANTIPATTERNS: tuple[AntiPattern, ...] = (
    AntiPattern("data_leakage", "Data leakage", "Does information from outside the training data, or from the future, inflate the score?"),
    AntiPattern("act_now_reflect_never", "Act now, reflect never", "Can reviewers see why the model decides, and which predictions to doubt?"),
    AntiPattern("tuning_under_the_carpet", "Tuning under the carpet", "Are the model's hyper-parameters recorded, and were they tuned?"),
    AntiPattern("pest", "Perceived empirical superiority", "Does the model beat simple baselines by more than chance?"),
    AntiPattern("bad_credit_assignment", "Bad credit assignment", "Where does the performance actually come from?"),
    AntiPattern("grade_your_own_exam", "Grade your own exam", "Is the holdout independent, large enough, and not over-used?"),
    AntiPattern("set_and_forget", "Set and forget", "Has the data drifted between training and holdout; how old are data and model?"),
    AntiPattern("communicate_with_ambivalence", "Communicate with ambivalence", "Are the model's probabilities calibrated, with a band for human review?"),
    AntiPattern("data_crisis_as_a_service", "Data crisis as a service", "Is the lineage of every input recorded and is the data fit for use?"),
)
ANTIPATTERN_IDS = frozenset(a.id for a in ANTIPATTERNS)


def antipattern(ap_id: str) -> AntiPattern:
    return next(a for a in ANTIPATTERNS if a.id == ap_id)
