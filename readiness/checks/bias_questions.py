"""The reviewers' part of the bias review: the deployment questionnaire and the reference population.

What the data cannot show — intended use, affected population, oversight, recourse, and
the shares of each group in the population the model will serve — is asked of the
reviewers (``Settings.reviewer_answers``; the Bias page's form; CLI ``--answers``).
``bias.categories`` (``readiness.checks.bias_categories``) reads the answers.
"""

from __future__ import annotations

import re

# The deployment questionnaire: stable keys of Settings.reviewer_answers.
CHOICES_OVERSIGHT = {"all": "Every decision is reviewed by a person",
                     "some": "A person reviews some decisions (sampled, borderline or on appeal)",
                     "none": "No human review"}
CHOICES_MATCH = {"yes": "Yes, the same population", "partly": "Partly (new regions, channels or products)",
                 "no": "No, a different population", "unknown": "Not known yet"}
CHOICES_RECOURSE = {"yes": "Yes, there is a way to contest a decision", "no": "No", "unknown": "Not known yet"}
QUESTIONS: tuple[dict, ...] = (
    {"key": "intended_use", "kind": "text", "question": "What decision will the model's output drive, and how?",
     "help": "e.g. 'Scores rank loan applications; those above the threshold go to manual underwriting.'"},
    {"key": "affected_population", "kind": "text", "question": "Who is affected by these decisions?",
     "help": "The people scored, and anyone else affected by the decision (co-applicants, dependants)."},
    {"key": "human_oversight", "kind": "choice", "choices": CHOICES_OVERSIGHT,
     "question": "Does a person review the model's decisions?", "help": "Oversight catches failures the data cannot show."},
    {"key": "population_match", "kind": "choice", "choices": CHOICES_MATCH,
     "question": "Will the model be used on the same population its data came from?",
     "help": "A model used on people unlike its training data fails in ways this review cannot measure."},
    {"key": "recourse", "kind": "choice", "choices": CHOICES_RECOURSE,
     "question": "Can an affected person contest a decision?", "help": "Recourse limits the harm of the errors that remain."},
    {"key": "reference_population", "kind": "text", "question": "Shares of each group in the population the model will serve (optional)",
     "help": "e.g. 'female=51%, male=49%, North=10%' or 'region:North=0.10'. Compared with training and holdout shares."},
)
REQUIRED_ANSWERS = ("intended_use", "affected_population", "human_oversight")


# --- reviewer answers ---------------------------------------------------------------------------------


def read_answers_file(path) -> dict[str, str]:
    """Reviewer answers from a JSON file: an object of question key -> text.

    Raises :class:`readiness.errors.ReadinessError` with a one-line message for a missing
    file, invalid JSON, a non-object, an unknown key or a non-text answer.
    """
    import json
    from pathlib import Path

    from readiness.errors import ReadinessError

    path = Path(path)
    known = [q["key"] for q in QUESTIONS]
    example = '{"intended_use": "...", "human_oversight": "some"}'
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReadinessError(f"--answers file not found: {path}. Check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadinessError(f"--answers file {path.name} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadinessError(f"--answers file {path.name} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                             f"write an object such as {example}.") from None
    if not isinstance(data, dict):
        raise ReadinessError(f"--answers file {path.name} must hold a JSON object such as {example}, "
                             f"not a {type(data).__name__}.")
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ReadinessError(f"--answers file {path.name} has unknown question key(s) {unknown}; known keys: {known}.")
    out = {}
    for k, v in data.items():
        if isinstance(v, (dict, list)):
            raise ReadinessError(f"--answers file {path.name}: the answer to '{k}' must be text, not a "
                                 f"{'list' if isinstance(v, list) else 'object'}.")
        if v is not None:
            out[k] = v if isinstance(v, str) else json.dumps(v)
    for q in QUESTIONS:
        if q["kind"] == "choice" and q["key"] in out and out[q["key"]] not in q["choices"]:
            raise ReadinessError(f"--answers file {path.name}: '{q['key']}' must be one of {list(q['choices'])}, "
                                 f"got {out[q['key']]!r}.")
    return out


def parse_reference_population(text: str, groups_by_attr: dict[str, list[str]]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Parse 'female=51%, male=49%, region:North=0.10' into {attribute: {group: share}}.

    Entries are separated by commas, semicolons or new lines; a group may be qualified
    as 'attribute:group' (needed when two attributes share a group name); shares are
    fractions (0.51) or percentages (51%, or any number above 1). Returns the parsed
    shares and a list of problems (one line each).
    """
    out: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    for raw in re.split(r"[,;\n]+", text or ""):
        entry = raw.strip()
        if not entry:
            continue
        if "=" not in entry:
            problems.append(f"'{entry}': write group=share, e.g. female=51%.")
            continue
        key, val = (s.strip() for s in entry.rsplit("=", 1))
        val_txt = val.rstrip("%").strip()
        try:
            share = float(val_txt)
        except ValueError:
            problems.append(f"'{entry}': the share '{val}' is not a number.")
            continue
        if val.endswith("%") or share > 1:
            share /= 100
        if not 0 <= share <= 1:
            problems.append(f"'{entry}': a share must be between 0 and 100%.")
            continue
        attr_name, group = None, key
        if ":" in key:
            a, gname = (s.strip() for s in key.split(":", 1))
            if a in groups_by_attr:
                attr_name, group = a, gname
        matches = []
        for a, gs in groups_by_attr.items():
            if attr_name is not None and a != attr_name:
                continue
            hit = next((g for g in gs if g.lower() == group.lower()), None)
            if hit is not None:
                matches.append((a, hit))
        if not matches:
            problems.append(f"'{entry}': no sensitive group called '{group}'.")
            continue
        if len(matches) > 1:
            problems.append(f"'{entry}': '{group}' is a group of {', '.join(a for a, _ in matches)}; "
                            "write attribute:group.")
            continue
        a, hit = matches[0]
        out.setdefault(a, {})[hit] = share
    for a, shares in out.items():
        if sum(shares.values()) > 1.0 + 1e-6:
            problems.append(f"The shares given for {a} add up to {100 * sum(shares.values()):.0f}%, more than 100%.")
    return out, problems
