"""config.yml validation and the settings that come from the environment."""

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wwt_project.config import ConfigError, load_config, validate_config

ROOT = Path(__file__).resolve().parents[1]


def test_no_config_gives_the_documented_defaults():
    config = load_config(None)
    assert config["actions"]["enabled"] == ["acdc", "clone", "special"]
    assert config["actions"]["report_retry_window_seconds"] == 0
    assert config["clustering"]["errorcode"] == {"distance": 1.0, "width": 0.0, "midpoint": 10.0}


def test_the_shipped_examples_are_valid():
    for name in ("config.example.yml", "config.demo.yml"):
        assert load_config(ROOT / name)["webmaster"]["email"]


def test_given_values_override_defaults_and_keep_the_rest():
    config = validate_config({"actions": {"enabled": ["acdc", "recovery"]}, "clustering": {"n_clusters": 4}})
    assert config["actions"]["enabled"] == ["acdc", "recovery"]
    assert config["actions"]["submithistory"] == 7
    assert config["clustering"]["n_clusters"] == 4 and config["clustering"]["n_init"] == 10


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"actoins": {}}, "unknown config key 'actoins'"),
        ({"actions": {"keyy": "x"}}, "unknown config key 'actions.keyy'"),
        ({"clustering": {"n_clusters": "ten"}}, "'clustering.n_clusters' must be a number"),
        ({"clustering": {"n_init": 2.5}}, "'clustering.n_init' must be an integer"),
        ({"clustering": {"errorcode": {"width": -1}}}, "'clustering.errorcode.width' must not be negative"),
        (
            {"accounts": {"allowed_domains": "cern.ch"}},
            "'accounts.allowed_domains' must be a list of strings",
        ),
        ({"actions": {"enabled": ["acdc", "magic"]}}, "'actions.enabled' holds unknown action"),
        ({"actions": {"require_key_for_getaction": "yes"}}, "must be true or false"),
        ({"actions": {"getaction_open": "yes"}}, "'actions.getaction_open' must be true or false"),
        (
            {"actions": {"getaction_open": True, "require_key_for_getaction": True}},
            "'actions.getaction_open' and 'actions.require_key_for_getaction' contradict",
        ),
        ({"sources": "https://cmsweb.cern.ch"}, "'sources' must be a mapping"),
        ({"sources": {"wmstats": 42}}, "'sources.wmstats' must be a string"),
    ],
)
def test_a_bad_key_is_named_in_the_error(given, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(".", r"\.")):
        validate_config(given)


def test_getaction_is_closed_unless_opened_explicitly():
    assert validate_config({})["actions"]["getaction_open"] is False
    assert validate_config({"actions": {"getaction_open": True}})["actions"]["getaction_open"] is True


def test_unreadable_and_invalid_yaml_files_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("actions: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config(listy)


def _manage(args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_project_refuses_to_start_with_a_bad_config(tmp_path):
    bad = tmp_path / "config.yml"
    bad.write_text("clustering:\n  n_clusters: many\n")
    result = _manage(["check"], WWT_CONFIG=str(bad))
    assert result.returncode != 0
    assert "invalid WWT configuration" in result.stderr
    assert "'clustering.n_clusters' must be a number" in result.stderr


def test_production_settings_need_a_secret_key():
    result = _manage(["check"], DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 20 + "a-long-random-production-secret-" + "y" * 20,
        ALLOWED_HOSTS="wwt.example.org", WWT_VAR_DIR=str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_actions_key_from_the_environment_wins(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("actions:\n  key: from-config\n")
    code = "from django.conf import settings; print(settings.WWT_ACTIONS_KEY)"
    base = {"WWT_CONFIG": str(config), "DJANGO_SETTINGS_MODULE": "wwt_project.settings"}
    run = lambda **env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env={**os.environ, **base, **env}, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert run(WWT_ACTIONS_KEY="") == "from-config"
    assert run(WWT_ACTIONS_KEY="from-env") == "from-env"


def test_production_sends_mail_by_smtp_unless_told_otherwise(tmp_path):
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_EMAIL_BACKEND"}
    base = {"DJANGO_SETTINGS_MODULE": "wwt_project.settings", "WWT_VAR_DIR": str(tmp_path)}
    run = lambda **env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env={**inherited, **base, **env}, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    production = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "s" * 60}
    assert run(**production) == "django.core.mail.backends.smtp.EmailBackend"
    assert run(DJANGO_DEBUG="true") == "django.core.mail.backends.filebased.EmailBackend"
    console = "django.core.mail.backends.console.EmailBackend"
    assert run(**production, DJANGO_EMAIL_BACKEND=console) == console


def _settings_value(expression: str, **env) -> str:
    base = {"DJANGO_SETTINGS_MODULE": "wwt_project.settings"}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; print({expression})"],
        cwd=ROOT, env={**os.environ, **base, **env}, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip


def test_database_connections_close_by_default_and_time_out(tmp_path):
    url = {"DATABASE_URL": "postgresql://wwt@db.example.org:5432/wwt", "WWT_VAR_DIR": str(tmp_path)}
    db = "settings.DATABASES['default']"
    assert _settings_value(f"{db}['CONN_MAX_AGE'], {db}['CONN_HEALTH_CHECKS']", **url) == "0 True"
    assert _settings_value(f"{db}['CONN_MAX_AGE']", **url, WWT_DB_CONN_MAX_AGE="30") == "30"
    options = _settings_value(
        f"{db}['OPTIONS']", **url, WWT_DB_CONNECT_TIMEOUT="3", WWT_DB_STATEMENT_TIMEOUT="12"
    )
    assert "'connect_timeout': 3" in options and "statement_timeout=12000" in options


def test_celery_redelivers_the_tasks_of_a_killed_worker(tmp_path):
    env = {"REDIS_URL": "redis://127.0.0.1:6399/0", "WWT_VAR_DIR": str(tmp_path)}
    assert _settings_value(
        "settings.CELERY_TASK_ACKS_LATE, settings.CELERY_TASK_REJECT_ON_WORKER_LOST", **env
    ) == ("True True")
    options = "settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']"
    assert _settings_value(options, **env) == "300"
    assert _settings_value(options, **env, WWT_CELERY_VISIBILITY_TIMEOUT="120") == "120"
    assert (
        _settings_value("settings.CACHES['default']['BACKEND']", **env)
        == "wwt_project.cache.FailSoftRedisCache"
    )


def test_gunicorn_workers_keep_their_connection_and_an_operator_can_say_otherwise():
    # gunicorn imports its config before forking the workers, which inherit the variable.
    code = "import os, wwt_project.gunicorn_conf; print(os.environ['WWT_DB_CONN_MAX_AGE'])"
    env = {key: value for key, value in os.environ.items() if key != "WWT_DB_CONN_MAX_AGE"}
    run = functools.partial(subprocess.run, [sys.executable, "-c", code], capture_output=True, text=True)
    assert run(env=env).stdout.strip() == "60"
    assert run(env={**env, "WWT_DB_CONN_MAX_AGE": "0"}).stdout.strip() == "0"
