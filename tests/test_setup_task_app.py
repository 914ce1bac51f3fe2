"""AppTest: Setup asks whether a whole-number target is classes or a quantity (issue 9)."""

from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def test_setup_lets_the_user_choose_the_task_of_a_whole_number_target():
    rng = np.random.default_rng(5)
    n = 900
    y = rng.integers(0, 8, n)
    df = pd.DataFrame({"x": rng.normal(size=n), "y": y, "forecast": y + rng.normal(size=n),
                       "split": np.where(np.arange(n) < 600, "train", "test")})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/setup.py").run()
    at.radio(key="setup_layout").set_value("One file with a split column").run()
    next(u for u in at.get("file_uploader") if u.label.startswith("Data")).set_value(
        ("counts.csv", df.to_csv(index=False).encode(), "text/csv"))
    at.run()
    at.radio(key="setup_model_mode").set_value("Scores in a holdout column (vendor, R or remote model)").run()
    for label, value in (("Target", "y"), ("Split column", "split"), ("Prediction column", "forecast")):
        next(s for s in at.selectbox if s.label.startswith(label)).set_value(value)
        at.run()
    task = at.radio(key="role_task")
    assert task.label == "Review the target as" and task.value == "classes (multiclass)"  # 8 values: the guess
    at.button[-1].click().run()
    assert any("a prediction column can only stand in for a binary or regression model" in e.value for e in at.error)
    at.radio(key="role_task").set_value("a quantity (regression)")
    at.run()
    assert not at.exception, at.exception
    at.button[-1].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    report = at.session_state["readiness_review"].report
    assert report.task == "regression"
