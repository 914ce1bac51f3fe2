"""One documented exception hierarchy.

Every error a user can cause is a :class:`ReadinessError`; its message is one line
that names what is wrong and what to do. The CLI prints it and exits 2; the app shows
it in an error box. Message templates are constants so tests assert on the same text.
"""

from __future__ import annotations


class ReadinessError(ValueError):
    """Base class: bad input the user can fix. ``str(err)`` is a one-line message."""


class InputFileError(ReadinessError):
    """A data file cannot be read (missing, empty, wrong format, bad encoding)."""


class RoleError(ReadinessError):
    """Column roles do not fit the data (missing target, one class, non-numeric scores...)."""


class ModelError(ReadinessError):
    """A model file cannot be loaded or does not fit the data."""


class UntrustedModelError(ModelError):
    """A model file would execute code on load and the user has not trusted it."""


# --- message templates (shared with tests) -------------------------------------------
FILE_NOT_FOUND = "{role} file not found: {path}. Check the path."
FILE_EMPTY = "{role} file {name} is empty (no rows). Export the data again with a header and at least one row."
FILE_NO_COLUMNS = "{role} file {name} has no columns. Is it a CSV with a header row?"
FILE_FORMAT = "{role} file {name} is not a supported table: use .csv, .tsv or .parquet."
FILE_ENCODING = "{role} file {name} is not a text table (binary or unknown encoding): export it as UTF-8 CSV or as Parquet."
FILE_PARSE = "{role} file {name} could not be parsed: {detail}"
FILE_DUPLICATE_COLUMN = (
    "{role} file {name} has more than one column named {column!r}: give each column its own name and export it again."
)
TARGET_MISSING = "Target column '{target}' is not in the {split} data. Columns are: {columns}."
TARGET_ONE_CLASS = "Target column '{target}' has only one value ({value!r}) in the {split} data: a classifier needs at least two classes."
TARGET_ALL_MISSING = "Target column '{target}' has no values in the {split} data."
COLUMN_MISSING = "{role} column '{column}' is not in the {split} data. Columns are: {columns}."
PREDICTION_NOT_NUMERIC = "Prediction column '{column}' must hold numeric scores for the positive class; found values like {example!r}."
POSITIVE_LABEL_UNKNOWN = "Positive label {label!r} is not a value of target '{target}'. Values are: {values}."
FAVORABLE_LABEL_UNKNOWN = ("Favourable label {label!r} is not a value of target '{target}'. Values are: {values}; "
                           "name the outcome that is good for the person.")
FAVORABLE_LABEL_REGRESSION = ("A favourable label needs a classification target; '{target}' is numeric with many "
                              "values. Leave the favourable label out.")
REFERENCE_GROUP_FORMAT = "--reference-group must be ATTRIBUTE=GROUP (e.g. race=Caucasian), got {value!r}."
REFERENCE_GROUP_ATTRIBUTE = ("Reference group given for '{attribute}', which is not a sensitive attribute of this "
                             "review; sensitive attributes and their combinations: {attributes}.")
REFERENCE_GROUP_UNKNOWN = "Reference group {group!r} is not a group of '{attribute}'. Groups are: {groups}."
SPLIT_COLUMN_VALUES = "Split column '{column}' must mark rows as train or test (values like train/test, 0/1); found {values}."
MODEL_FORMAT = (
    "Model file {name} has an unsupported format: use .skops (recommended), XGBoost .json/.ubj, LightGBM .txt/.lgb, "
    "CatBoost .cbm, ONNX .onnx, or .joblib/.pkl with explicit trust."
)
# --- models of the boosting libraries and ONNX (readiness.inputs.native; docs/models.md) ---
MODEL_LIBRARY_MISSING = (
    "Model file {name} is a {library} model, and {library} is not installed: "
    "pip install \"model-readiness-review[{extra}]\" (or pip install {package})."
)
MODEL_OBJECTIVE = (
    "Model file {name} has the objective '{objective}', which is not a classification or regression objective "
    "this review scores (binary, multiclass, regression); review a model trained for one of those."
)
MODEL_CATEGORIES_NOT_STORED = (
    "Column '{column}' is categorical in the model {name}, but the file does not store the categories it was "
    "trained on, so the data's values cannot be matched to the model's codes: save the model with a library "
    "version that stores them (XGBoost 3.1 or later, trained on a pandas DataFrame with category columns)."
)
MODEL_COLUMN_NOT_NUMERIC = (
    "Column '{column}' holds text (e.g. {example!r}) but the model {name} reads it as a number: encode it as the "
    "model was trained, or give the model that was trained on this data."
)
MODEL_CLASS_COUNT = (
    "The model {name} predicts {n} classes but target '{target}' has {m} values ({values}): give the target "
    "the model was trained on."
)
MODEL_CLASSES_ASSUMED = (
    "The model {name} stores no class labels: its classes 0..{last} were read as the target's values in sorted "
    "order ({values}), as scikit-learn's LabelEncoder numbers them."
)
ONNX_EXTERNAL_DATA = (
    "Model file {name} keeps tensors in external files ({location}), which are never read: save the ONNX model "
    "with its weights inside the file (onnx.save_model(..., save_as_external_data=False))."
)
ONNX_DOMAIN = (
    "Model file {name} uses operators from '{domain}', outside the standard ONNX sets (ai.onnx, ai.onnx.ml): "
    "custom operators need code this review does not load. Export the model with standard operators."
)
ONNX_INPUTS = (
    "Model file {name} has inputs {inputs}, which match neither one input per data column by name nor one input "
    "of {n} columns: export the model with one input per column, named like the data's columns."
)
MODEL_INVALID_TREE = (
    "Model file {name} holds an invalid tree ({where}): {problem}. It was refused; save the model again with its "
    "library."
)
ONNX_SINGLE_OUTPUT_READ = (
    "The model {name} has one output column ('{output}') and target '{target}' has two values: the output was read "
    "as the probability of '{positive}' (a binary classifier). To review it as a regression instead, set the task "
    "to regression (--task regression)."
)
ONNX_SINGLE_OUTPUT_RANGE = (
    "The model {name} has one output column ('{output}') and target '{target}' has two values, but the output runs "
    "from {low:.3g} to {high:.3g}, so it is not a probability: export the model with its probability (e.g. a Sigmoid "
    "at the end), or review it as a regression (--task regression)."
)
ONNX_OUTPUTS = (
    "Model file {name} has outputs {outputs}: none is a probability table or a single predicted value per row."
)
MODEL_UNTRUSTED_PICKLE = (
    "Model file {name} is a pickle (sha256 {sha256}): loading it can run any code. "
    "Convert it to .skops, or pass --trust-model if you trust this exact file."
)
MODEL_PICKLE_NOT_ALLOWED = (
    "Model file {name} is a pickle (sha256 {sha256}): loading it can run any code, and this server's operator "
    "has not allowed this exact file. Save the model with skops.io.dump(model, 'model.skops'), or ask the operator "
    "to add this SHA-256 to the server's allow-list (READINESS_TRUSTED_PICKLES, see docs/models.md)."
)
MODEL_UNTRUSTED_TYPES = (
    "Model file {name} asks for types outside the reviewed allow-list: {types}. "
    "If you trust this file, save it with skops and review these types, or load it as a trusted pickle."
)
MODEL_NOT_ZIP = "{name} is not a skops file (it is not a zip archive); save the model with skops.io.dump."
MODEL_ARCHIVE_DAMAGED = "Model file {name} is a damaged or tampered zip archive ({detail}); save the model again with skops.io.dump."
MODEL_ARCHIVE_TOO_BIG = (
    "Model file {name} would unpack to {size}, more than the {limit} allowed; it was refused before unpacking. "
    "If the model really is this large, raise READINESS_MODEL_MAX_MB (docs/models.md)."
)
MODEL_ARCHIVE_RATIO = (
    "Model file {name} looks like a decompression bomb: entry {member!r} unpacks to {size}, {ratio:,.0f} times its "
    "packed size; it was refused before unpacking. Save the model again with skops.io.dump."
)
MODEL_ARCHIVE_MEMBERS = "Model file {name} holds {n:,} entries, more than the {limit:,} allowed; it was refused before unpacking."
MODEL_INVALID = (
    "Model file {name} holds an invalid {kind}: {detail}. It was refused before use (a file like this can crash "
    "the program); save the model again from scikit-learn with skops.io.dump."
)
MODEL_SANDBOX_CRASH = (
    "Model file {name} crashed the isolated process {stage} ({detail}); it was refused and nothing else was "
    "affected. Save the model again with its library (scikit-learn: skops.io.dump; XGBoost, LightGBM, CatBoost: "
    "save_model)."
)
MODEL_SANDBOX_MEMORY = (
    "Model file {name} needed more than the {limit} MB of memory allowed {stage}; it was refused. "
    "If the model really is this large, raise READINESS_MODEL_MEMORY_MB (docs/models.md)."
)
MODEL_SANDBOX_TIMEOUT = (
    "Model file {name} took longer than the {limit:g} s allowed {stage}; it was refused. "
    "If the model really is this slow, raise READINESS_MODEL_TIMEOUT_S (docs/models.md)."
)
MODEL_SANDBOX_UNAVAILABLE = "Model file {name} could not be checked in an isolated process ({detail}); it was not loaded. Try again."
MODEL_CORRUPT = "Model file {name} could not be read: {detail}"
MODEL_COLUMNS = (
    "The model expects columns the data does not have: missing {missing}; columns in the data the model does not "
    "know: {extra}. Give the data the model's column names, or the model trained on this data."
)
HOLDOUT_COLUMNS = (
    "The holdout lacks columns of the training data: missing {missing}; only in the holdout: {extra}. "
    "Export the holdout with the training data's columns."
)
MODEL_NOT_ESTIMATOR = "Model file {name} holds a {kind}, not a fitted model with predict()."
MODEL_PREDICT_FAILED = "The model failed to predict on the holdout: {detail}"
TASKS = ("binary", "multiclass", "regression")
TASK_UNKNOWN = "Task {task!r} is not one of: binary, multiclass, regression."
TASK_GUESSED_REGRESSION = (
    "Target '{target}' holds {n} different whole numbers, so it was reviewed as a quantity (regression). If they are "
    "class labels, choose the task (CLI --task multiclass; app: 'Review the target as') and review a model file: a "
    "prediction column cannot stand in for a multiclass model."
)
PREDICTION_MULTICLASS = (
    "Target '{target}' has {n} classes, and a prediction column can only stand in for a binary or regression model. "
    "If the target is a quantity, choose the task regression (CLI --task regression; app: 'Review the target as'); "
    "if it holds classes, review a model file instead."
)
TASK_MODEL_MISMATCH = "The model is {kind} model, so it cannot be reviewed as {task}: leave the task to the model."
TASK_NOT_NUMERIC = "Target '{target}' is not numeric (values like {example!r}), so it cannot be reviewed as a regression."
TASK_NOT_BINARY = "Target '{target}' has {n} different values, so it cannot be reviewed as binary (two classes)."
TASK_NOT_MULTICLASS = "Target '{target}' has {n} different values: review it as binary, not multiclass."


class AccessConfigError(ReadinessError):
    """The operator's access rules ([access] in .streamlit/secrets.toml) cannot be read."""


ACCESS_NOT_A_LIST = "[access] {key} must be a list of people: emails, '@domain' or 'group:NAME'; found {value!r}."
ACCESS_BAD_PRINCIPAL = ("[access] {key}: {value!r} is neither an email, an '@domain' nor a 'group:NAME'. "
                        "Fix .streamlit/secrets.toml and restart the app.")
ACCESS_UNKNOWN_KEY = "[access] has an unknown setting {key!r}: use operators, projects and groups_claim."

# --- review history (readiness.store): {url} is shown without its password -------------
DB_URL_EMPTY = "The review history database URL is empty: give --db URL or set READINESS_DB (a SQLite file or a database URL)."
DB_URL_BAD = "Not a usable database URL ({url}): {detail}. Use a SQLite file path or e.g. postgresql+psycopg://user:password@host:5432/reviews."
DB_DRIVER_MISSING = "The review history {url} needs the Python driver {driver}, which is not installed: {hint}."
DB_DRIVER_HINT_PG = "pip install \"model-readiness-review[postgres]\" and use a postgresql+psycopg:// URL"
DB_DRIVER_HINT_OTHER = "install it, or use SQLite or PostgreSQL (the databases readiness is tested on)"
DB_UNREACHABLE = "Cannot reach the review history server {url}: {detail}. Check the host and port in --db / READINESS_DB and that the server is running."
DB_AUTH_FAILED = "The review history server {url} refused the login: {detail}. Check the user name and password in --db / READINESS_DB."
DB_MISSING = "The review history database {url} does not exist on the server: create it first (e.g. createdb), then retry."
DB_CANNOT_OPEN = "Cannot open the review history {url}: {detail}."
DB_NOT_A_DATABASE = "The review history file {url} is not a SQLite database: point --db / READINESS_DB at a review history or a new file."
DB_FOREIGN = (
    "The database {url} belongs to another application ({detail}); nothing was written. "
    "Give the review history a database (or PostgreSQL schema) of its own."
)
DB_SCHEMA_OLDER = (
    "The review history {url} has schema version {found}, older than this version's {head}; nothing was written. "
    "Run `readiness db upgrade` with the same --db / READINESS_DB (back it up first with `readiness db export`)."
)
DB_SCHEMA_NEWER = (
    "The review history {url} has schema version {found}, newer than this version of readiness knows (latest {head}); "
    "nothing was written. Upgrade readiness (pip install -U model-readiness-review) to use it."
)
DB_SCHEMA_DAMAGED = "The review history {url} has a damaged schema version table ({detail}); nothing was written. Restore it from a backup (`readiness db import`)."
DB_REVIEW_UNKNOWN = "Review {review_id} is not in the review history {url}: record the review before its report."
DB_REVIEW_MISMATCH = "Review {review_id} in the history was run on other inputs (digest {found}) than record {record_id} (digest {expected}): not linked."
DB_RECORD_CONFLICT = "Record {record_id} is already in the history with other bytes (SHA-256 {found}, not {expected}): a record id never changes content."
DB_RECORD_UNKNOWN = "Review record {record_id} is not in the history; store it first."
DB_SIGNATURE_MISMATCH = "The signature by {signer} is over record bytes {signed} but the history holds record {record_id} as {stored}: not recorded."
DB_SLOT_TAKEN = (
    "Signature slot {field} ({role}) of record {record_id} is already signed in the history by {other} "
    "(certificate {other_cert}): this signature by {signer} is in the PDF but not recorded."
)
DB_EXPORT_BAD = "{path} is not a readiness history export: {detail}."
DB_EXPORT_INCOMPLETE = "{path} is an incomplete readiness history export ({detail}): export again; nothing was imported."
DB_IMPORT_NOT_EMPTY = "The review history {url} already holds {n} review(s): import only into an empty database (ids are kept); nothing was imported."
DB_IMPORT_DIGEST = "Record {record_id} in {path} does not match its SHA-256 (stored {stored}, computed {computed}): the export was changed; nothing was imported."
# --- champion (the model in production today) and monitoring -----------------------------------
CHAMPION_BOTH = "Give the current model (champion) as a model file or as a prediction column, not both."
CHAMPION_TASK = ("The current model ({name}) is a {theirs} model, but this review's target makes it a {ours} task: "
                 "a champion must predict the same target the same way.")
CHAMPION_CLASSES = ("The current model ({name}) predicts the classes {theirs}; the target's classes are {ours}. "
                    "Compare models that predict the same classes.")
CHAMPION_COLUMNS = ("The current model ({name}) needs columns the holdout does not have: {missing}. Give a holdout "
                    "that also holds the current model's features.")
CHAMPION_PREDICT_FAILED = "The current model ({name}) failed to score the holdout: {detail}"
CHAMPION_COLUMN_SAME = ("The current model's prediction column '{column}' is also the new model's prediction "
                        "column: give each model its own column of scores.")
CHAMPION_COLUMN_MULTICLASS = ("A prediction column can stand in for the current model only for a binary or regression "
                              "target; this target has {n} classes. Give the current model's file instead.")
CHAMPION_NO_SCORES = "The current model's prediction column '{column}' has no numeric values in the holdout."
MONITOR_REVIEW_FORMAT = ("{name} is not a readiness review: give the review's JSON (readiness review --json), its "
                         "review-record.json, or the PDF report.")
MONITOR_NO_REFERENCE = ("The review in {name} holds no monitoring reference (check monitoring.reference); it was made "
                        "by an older readiness. Run the review again with this version and sign it.")
MONITOR_TAMPERED = ("The PDF report {name} has changed since it was signed ({reason}): it cannot serve as the "
                    "reference. Use the signed original (readiness verify tells what changed).")
MONITOR_MODEL_MISMATCH = ("The model file {name} (sha256 {actual}) is not the model this review is for (sha256 "
                          "{expected}): monitor with the reviewed model, or review the new model first.")
MONITOR_MODEL_NEEDED = "This review is of a model file: give it with --model so the batch can be scored."
MONITOR_PREDICTION_COLUMN = ("This review used the prediction column '{column}' instead of a model: the batch must hold "
                             "that column (and no --model is needed).")
MONITOR_BATCH_COLUMNS = ("Batch {name} lacks columns the model needs: {missing}. Export the batch with every model "
                         "feature ({n} in all).")
MONITOR_BATCH_NO_SCORES = "No row of batch {name} could be scored (every score is missing)."
MONITOR_PREDICT_FAILED = "The model failed to score batch {name}: {detail}"
MONITOR_TARGET_MISSING = ("Target column '{target}' is not in batch {name}; leave out --target to monitor a batch "
                          "without labels.")
MONITOR_TARGET_LABELS = ("Target column '{target}' in batch {name} holds values the review never saw ({values}); "
                         "the review's classes are {classes}.")

# --- sign-off: keys, certificates, signers (readiness.report) --------------------------
SIGNER_NAME_MISSING = "A signer name is needed for the certificate (--name)."
SIGNER_NAME_TOO_LONG = ("The signer name is {length} characters long; a certificate name holds at most {limit}. "
                        "Use a shorter form of the name.")
EMAIL_INVALID = "{what} {email!r} is not a valid email address: write it as name@domain.example."
CERT_DAYS_RANGE = "Certificate validity (--days) must be a whole number of days from 1 to {limit:,}; got {days}."
CERT_EXPIRED = ("The certificate of {subject} expired on {date}: make a new key and certificate "
                "(readiness keygen) and sign with those.")
CERT_NOT_YET_VALID = ("The certificate of {subject} is not valid before {date}: check the computer's clock, or "
                      "sign with a certificate that is valid now.")
CERT_NOT_FOR_SIGNING = ("The certificate of {subject} is not for signing (key usage: {usage}); a signing "
                        "certificate must allow 'digital signature' or 'non-repudiation'.")
NOTE_TOO_LONG = ("The signer's note is {length:,} characters long; the limit is {limit:,}. Put longer text in "
                 "the review's notes per check.")
REVIEWER_EMAIL = ("Reviewer {line!r} needs a valid email: write the line as 'Name <name@domain.example>' "
                  "(then ', role' if you like).")
SIGNER_PERSON = ("Planned signer {text!r} must be 'ROLE=Name <name@domain.example>' (a person in a role) or a "
                 "role alone (--signer-role ROLE).")
APPROVAL_NEEDS_RATIONALE = ("Approving a review in which checks failed needs a written rationale for each failing "
                            "check; there is none for: {checks}. Add a note on each (CLI: --note CHECK_ID=TEXT; app: "
                            "the note beside the check), or decide 'reject'.")
SIGN_OUT_OF_ORDER = ("Signing order: '{role}' ({field}) signs after {waiting}, not signed yet. The planned order "
                     "is {order}.")
SIGN_WRONG_PERSON = ("The '{role}' signature ({field}) is planned for {planned}, but this certificate is "
                     "{actual}. Sign with the planned person's certificate, or re-assign the role explicitly "
                     "(readiness sign --reassign REASON; app: 'Sign in place of the planned person').")
SIGN_SAME_PERSON = ("{actual} already signed as '{role}' ({field}): one person signs one role, unless the plan "
                    "names them for both.")
SIGN_APPROVE_NEEDS_RATIONALE = ("Approving needs a written rationale for each failing check, and this report has "
                                "none for: {checks}. Rebuild the report with a note on each, or decide 'reject'.")
REASSIGN_NOT_NEEDED = ("Nothing to re-assign: the '{role}' signature ({field}) is {why}; sign without "
                       "--reassign.")
# --- Parquet datasets and engines (readiness.engines; docs/engines.md) ----------------------
DATASET_NOT_FOUND = "{role} dataset {name} has no Parquet files (a directory, a glob or a URL of .parquet files). Check the path."
DATASET_EMPTY = "{role} dataset {name} is empty: its {files} Parquet file(s) hold no rows."
DATASET_SCHEMAS = ("{role} dataset {name}: partitions disagree on {what}: {first} has {a}, {other} has {b}. "
                   "Rewrite the dataset with one schema.")
DATASET_READ = "{role} dataset {name} could not be read: {detail}"
ENGINE_UNKNOWN = "--engine must be local, dask or spark, got {engine!r}."
ENGINE_MISSING = ("--engine {engine} needs the [{engine}] extra (pip install 'model-readiness-review[{engine}]'): "
                  "{detail}")
ENGINE_UNREACHABLE = "The {what} at {address} cannot be reached: {detail}"
ENGINE_FAILED = "The {engine} engine failed while {doing}: {detail}"
SERVER_DATA_CONFIG = ("The server's datasets are off: ${env} {problem}. The operator sets it (SECURITY.md, "
                      "docs/engines.md); uploads work as usual.")
SERVER_DATA_REFUSED = "Dataset {name!r} on the server cannot be used: {why}."
ENGINE_CSV = ("--engine {engine} reads Parquet: {name} is a {kind} file. Convert it to Parquet (or use --engine local).")
