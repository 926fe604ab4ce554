"""Model files: written once under `clustering.model_dir`, loaded once per file per process.

A file is never changed after it is written (each fit or training writes a new name), so a
load is cached by path: the workflow page reads the model from memory, not from disk, on
each view. Only the last MODEL_FILES_KEPT files of a kind are kept on disk.

Beside each model file, `<file>.axes.json` holds its axes (exit codes, sites, shells) as plain
JSON: the web process ranks similar workflows with them, without numpy (`load_axes`).
"""

import json
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from .exceptions import ClusteringError

MODEL_FILES_KEPT = 3
# A few of each kind (cluster model, predictor) in memory at once is plenty: the pages only
# read the newest, and an older one is dropped when the cache is full.
LOADED_MODELS_KEPT = 2 * MODEL_FILES_KEPT


def model_dir() -> Path:
    path = Path(settings.WWT["clustering"]["model_dir"])
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def save_model(payload: dict, name: str) -> Path:
    """Write `payload` with joblib under model_dir atomically (temp file + rename)."""
    import joblib  # with numpy: only jobs and the pages that read a model pay for the import

    directory = model_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        os.close(handle)
        joblib.dump(payload, temp)
        target = directory / name
        _save_axes(payload, target)
        os.replace(temp, target)
    except OSError as exc:
        raise ClusteringError(f"cannot write the model to {directory}: {exc.strerror or exc}") from exc
    return target


def axes_path(model_file: str | Path) -> Path:
    return Path(f"{model_file}.axes.json")


def _save_axes(payload: dict, model_file: Path) -> None:
    """Write the payload's axes beside `model_file` (before the model itself is in place, so
    a model file never lacks them): its exit codes and sites, and the shells when it has them."""
    axes = {"exit_codes": [int(code) for code in payload.get("exit_codes", [])],
            "sites": [str(site) for site in payload.get("sites", [])]}  # fmt: skip
    for shell in ("errorcode", "sitename"):
        if shell in payload:
            axes[shell] = {name: float(value) for name, value in vars(payload[shell]).items()}
    handle, temp = tempfile.mkstemp(dir=model_file.parent, suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump(axes, out)
    os.replace(temp, axes_path(model_file))


@lru_cache(maxsize=LOADED_MODELS_KEPT)
def load_axes(model_file: str) -> dict | None:
    """The axes stored beside `model_file` ({"exit_codes", "sites", and "errorcode" /
    "sitename" shells as dicts}), read once per process; None for a model written before axes
    files existed. ClusteringError when the file cannot be read."""
    try:
        return json.loads(axes_path(model_file).read_text())
    except FileNotFoundError:
        if not Path(model_file).exists():
            raise ClusteringError(f"cannot read the stored model {model_file}: it is gone") from None
        return None
    except (OSError, ValueError) as exc:
        raise ClusteringError(f"cannot read the axes of the stored model {model_file}: {exc}") from exc


@lru_cache(maxsize=LOADED_MODELS_KEPT)
def load_model(path: str) -> dict:
    """The payload stored at `path`, read from disk the first time only (a failure is not
    cached: the next call tries again). Callers must not change what it returns."""
    import joblib

    # joblib files are pickles: only ever load what this app wrote into model_dir. A damaged
    # file or one written by another scikit-learn version fails in many ways, all "unreadable".
    try:
        return joblib.load(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError, AttributeError, ImportError,
            pickle.UnpicklingError) as exc:  # fmt: skip
        raise ClusteringError(f"cannot read the stored model {path}: {exc}") from exc


def keep_last_model_files(newest_first: QuerySet) -> int:
    """Delete the files of all but the first MODEL_FILES_KEPT rows of `newest_first` (rows
    with a `model_file`, the newest first) and blank their `model_file`. Returns how many."""
    stale = list(newest_first.exclude(model_file="").values_list("pk", "model_file")[MODEL_FILES_KEPT:])
    for _, path in stale:
        Path(path).unlink(missing_ok=True)
        axes_path(path).unlink(missing_ok=True)
    newest_first.model.objects.filter(pk__in=[pk for pk, _ in stale]).update(model_file="")
    return len(stale)
