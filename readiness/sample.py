"""The bundled sample review (``sample_data/``), which the app opens on."""

from __future__ import annotations

import json
from pathlib import Path

from readiness.inputs import Roles, Settings, prepare_review

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_CONFIG = SAMPLE_DIR / "sample_review.json"


def sample_config() -> dict:
    return json.loads(SAMPLE_CONFIG.read_text())


def load_sample(settings_override: Settings | None = None):
    """Return the review context of the bundled sample."""
    cfg = sample_config()
    settings = settings_override or Settings(**cfg.get("settings", {}))
    return prepare_review(train=SAMPLE_DIR / cfg["train"], test=SAMPLE_DIR / cfg["test"],
                          model=SAMPLE_DIR / cfg["model"], roles=Roles(**cfg["roles"]), settings=settings,
                          champion=SAMPLE_DIR / cfg["champion"] if cfg.get("champion") else None,
                          sandbox=False)  # shipped with the package, not an upload: validated, not isolated
