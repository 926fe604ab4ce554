"""The operators' config.yml: defaults, loading and validation.

`load_config(path)` returns the merged configuration as plain dicts, or raises
`ConfigError` with a message naming the bad key. Settings call it once at start.
"""

from pathlib import Path

import yaml


class ConfigError(Exception):
    """config.yml is unreadable or holds a bad key or value."""


_SHELL = {"distance": 1.0, "width": 0.0, "midpoint": 10.0}

# Every key an operator may set, with its default. The type of the default is the
# type a value must have (None: a string or nothing; int accepted where float is).
DEFAULTS = {
    "webmaster": {"name": "WWT administrators", "email": "wwt-admins@example.org"},
    "sources": {
        "all_errors": None,  # file path or URL of Unified's all_errors.json
        "wmstats": None,  # base URL, e.g. https://cmsweb.cern.ch
        "reqmgr2": None,
        "acdc": None,
        "site_status": None,  # URL of a JSON {site: status}
        "logs": None,  # Elasticsearch/OpenSearch base URL
        "logs_index": "wmarchive-*",
        "jira": "https://its.cern.ch/jira",
        "cert": None,
        "key": None,
        "ca_bundle": None,
        "timeout_seconds": 10.0,  # to read an answer; connecting gives up after 3.05 s
        # Old ACDC collections name storage hosts; {host: CMS site} maps them (else dropped).
        "storage_hosts": {},
        # At most this many workflows' ReqMgr2 parameters are refreshed per refresh job.
        "reqmgr2_refresh_limit": 300,
        # ... and at most this many workflows' ACDC recovery locations.
        "acdc_refresh_limit": 300,
    },
    "accounts": {"allowed_domains": ["cern.ch"], "whitelisted_emails": []},
    "actions": {
        "submithistory": 7,
        "key": None,
        "enabled": ["acdc", "clone", "special"],
        # getaction answers only a caller with the passphrase; true serves anyone (an explicit choice).
        "getaction_open": False,
        # Kept so old config files still load: the passphrase is now always required, so true
        # changes nothing and false no longer opens getaction (use getaction_open).
        "require_key_for_getaction": False,
        "report_retry_window_seconds": 0,
        # "Tell the requester" mails the workflow's ReqMgr2 Requestor about a submitted action.
        "tell_requester": {
            "default_for": ["clone"],  # actions whose form ticks the box at first
            "domain": "cern.ch",  # Requestor "jdoe" -> jdoe@cern.ch ("": only the table below)
            "addresses": {},  # {requestor: address}, exceptions to the domain rule
            "page_url": None,  # e.g. https://wwt.example.cern.ch: the mail links the workflow page
        },
        # ReqMgr2 RequestStatus -> the actions the form offers and the API accepts for a request
        # in it (also limited to `enabled`). A status not listed, or an unknown status (ReqMgr2
        # not asked yet), offers every enabled action with a warning. Given in config.yml, the
        # table replaces this one whole.
        "allowed_by_status": {
            **dict.fromkeys(
                ["new", "assignment-approved", "assigned", "staging", "staged", "acquired"],
                ["clone", "special"],
            ),
            **dict.fromkeys(["running", "running-open", "failed", "force-complete"], ["clone", "special"]),
            **dict.fromkeys(["running-closed", "completed"], ["acdc", "recovery", "clone", "special"]),
            **dict.fromkeys(
                [
                    "closed-out",
                    "announced",
                    "normal-archived",
                    "aborted",
                    "aborted-completed",
                    "aborted-archived",
                    "rejected",
                    "rejected-archived",
                ],
                [],
            ),
        },
    },
    "clustering": {
        "n_clusters": 10,
        "n_init": 10,
        "model_dir": "var/models",
        "errorcode": dict(_SHELL),
        "sitename": dict(_SHELL),
    },
    "cache": {
        "errors_minutes": 30,
        "explanations_minutes": 30,
        # Workflows of the biggest cells whose log samples each refresh fetches.
        "log_samples_per_refresh": 50,
        "reqmgr2_minutes": 60,
        "acdc_minutes": 60,
        "site_status_minutes": 60,
    },
    "history": {"bucket_minutes": 60},
    # false: steps named *LogCollect* or *Cleanup* are left out at ingestion, as the
    # original did (they cannot be recovered by an action).
    "errors": {"keep_logcollect_cleanup": False},
}

_MAP_OF_STRINGS = ("sources.storage_hosts", "actions.tell_requester.addresses")
_MAP_OF_ACTION_LISTS = ("actions.allowed_by_status",)
_LIST_OF_STRINGS = (
    "accounts.allowed_domains",
    "accounts.whitelisted_emails",
    "actions.enabled",
    "actions.tell_requester.default_for",
)
_ACTION_NAMES = {"acdc", "recovery", "clone", "special"}


def _check_value(path: str, default, value):
    if path in _MAP_OF_ACTION_LISTS:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, list) and all(isinstance(a, str) for a in v)
            for k, v in value.items()
        ):
            raise ConfigError(
                f"config key '{path}' must map each ReqMgr2 status to a list of actions, e.g. "
                "{completed: [acdc, clone, special], announced: []}"
            )
        unknown = sorted({a for v in value.values() for a in v} - _ACTION_NAMES)
        if unknown:
            raise ConfigError(
                f"config key '{path}' holds unknown action(s) {unknown}; choose from {sorted(_ACTION_NAMES)}"
            )
        return {k.strip(): list(dict.fromkeys(v)) for k, v in value.items()}
    if path in _MAP_OF_STRINGS:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip() for k, v in value.items()
        ):
            raise ConfigError(f"config key '{path}' must be a mapping of names to names, e.g. {{host: site}}")
        # Host names and CERN logins are case-insensitive: keep them lower case, as lookups do.
        return {k.strip().lower(): v.strip() for k, v in value.items()}
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{path}' must be a mapping, got {type(value).__name__}")
        return _merge(path, default, value)
    if path in _LIST_OF_STRINGS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config key '{path}' must be a list of strings")
        return value
    if default is None:
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"config key '{path}' must be a string, got {type(value).__name__}")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"config key '{path}' must be true or false")
        return value
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config key '{path}' must be a number, got {value!r}")
        if isinstance(default, int) and not isinstance(value, int):
            raise ConfigError(f"config key '{path}' must be an integer, got {value!r}")
        if value < 0:
            raise ConfigError(f"config key '{path}' must not be negative, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"config key '{path}' must be a string, got {type(value).__name__}")
    return value


def _merge(prefix: str, defaults: dict, given: dict) -> dict:
    merged = {}
    for key in given:
        if key not in defaults:
            where = f"{prefix}.{key}" if prefix else key
            known = ", ".join(sorted(defaults))
            raise ConfigError(f"unknown config key '{where}' (known here: {known})")
    for key, default in defaults.items():
        path = f"{prefix}.{key}" if prefix else key
        merged[key] = _check_value(path, default, given[key]) if key in given else _copy(default)
    return merged


def _copy(default):
    if isinstance(default, dict):
        return {k: _copy(v) for k, v in default.items()}
    if isinstance(default, list):
        return list(default)
    return default


def validate_config(given: dict) -> dict:
    """Merge `given` over the defaults; raise ConfigError naming the first bad key."""
    config = _merge("", DEFAULTS, given or {})
    for key in ("enabled", "tell_requester.default_for"):
        names = config["actions"]
        for part in key.split("."):
            names = names[part]
        unknown = set(names) - _ACTION_NAMES
        if unknown:
            raise ConfigError(
                f"config key 'actions.{key}' holds unknown action(s) {sorted(unknown)}; "
                f"choose from {sorted(_ACTION_NAMES)}"
            )
    if config["actions"]["getaction_open"] and config["actions"]["require_key_for_getaction"]:
        raise ConfigError(
            "config keys 'actions.getaction_open' and 'actions.require_key_for_getaction' contradict "
            "each other; drop require_key_for_getaction (getaction needs the key unless it is open)"
        )
    if config["clustering"]["n_clusters"] < 1 or config["clustering"]["n_init"] < 1:
        raise ConfigError("config keys 'clustering.n_clusters' and 'clustering.n_init' must be at least 1")
    return config


def load_config(path: str | Path | None) -> dict:
    """Read and validate config.yml; no path (or a missing default file) gives the defaults."""
    if path is None:
        return validate_config({})
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        given = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if given is not None and not isinstance(given, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    try:
        return validate_config(given or {})
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
