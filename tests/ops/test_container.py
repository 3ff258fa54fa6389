"""The Dockerfile and compose.yaml: checked statically on every run (non-root, a health check on /healthz,
`contactsync serve`, the package installed from the repository, no secret baked in; compose parses, builds
this Dockerfile and starts PostgreSQL first), and built for real where a Docker daemon answers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from bot.settings import BotSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / "contactsync.env.example"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: comments dropped, continued lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def secret_settings() -> set[str]:
    """The environment variables that carry a secret: the bot's SecretStr settings, the key file and the
    database URL (its password)."""
    names = {"GOOGLE_APPLICATION_CREDENTIALS", "DATABASE_URL"}
    for field in BotSettings.model_fields.values():
        if field.annotation is not None and SecretStr in getattr(field.annotation, "__args__", (field.annotation,)):
            names.add(str(field.validation_alias))
    return names


def env_keys(arguments: str) -> set[str]:
    """The names an ENV or ARG instruction sets (`A=1 B=2`, or the old `A 1`)."""
    if "=" not in arguments.split()[0]:
        return {arguments.split()[0]}
    return {part.split("=", 1)[0] for part in re.findall(r"[A-Za-z_][A-Za-z0-9_]*=(?:\"[^\"]*\"|\S*)", arguments)}


# --- static: always ----------------------------------------------------------------------------------
def test_the_image_is_python_311_slim_and_installs_the_package_from_the_repository() -> None:
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    froms = [args for kind, args in steps if kind == "FROM"]
    assert froms and froms[0].startswith("python:3.11-slim"), froms
    copied = " ".join(args for kind, args in steps if kind == "COPY")
    for package in ("sync_core", "bot", "contactsync", "pyproject.toml"):
        assert package in copied, f"{package} is not copied into the image"
    assert any(kind == "RUN" and re.search(r"pip install \.(\s|$)", args) for kind, args in steps)


def test_the_image_runs_serve_as_a_non_root_user_with_a_health_check() -> None:
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    kinds = [kind for kind, _ in steps]
    users = [args for kind, args in steps if kind == "USER"]
    assert users, "no USER: the image would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, users[-1]
    assert kinds.index("USER") < kinds.index("CMD"), "USER comes before the command it applies to"
    health = [args for kind, args in steps if kind == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0] and "CMD" in health[0]
    [cmd] = [args for kind, args in steps if kind == "CMD"]
    assert json.loads(cmd) == ["contactsync", "serve"]


def test_no_secret_is_baked_into_the_image() -> None:
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    secrets = secret_settings()
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"} <= secrets  # the reader works
    for kind, args in steps:
        if kind in {"ENV", "ARG"}:
            assert not env_keys(args) & secrets, f"{kind} {args}"
        if kind in {"COPY", "ADD"}:
            assert not re.search(r"(^|\s)(\.env|secrets|[\w.-]*\.json)(\s|$)", args), f"{kind} {args}"
        assert not re.search(r"xox[abp]-|xapp-|BEGIN PRIVATE KEY", args), f"{kind} carries a secret"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", "secrets/", ".venv", ".git"} <= set(ignored)


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def test_compose_builds_this_dockerfile_and_starts_postgres_first() -> None:
    services = compose()["services"]
    built = {name: s for name, s in services.items() if isinstance(s.get("build"), dict)}
    [(app_name, app)] = built.items()
    assert (ROOT / app["build"].get("context", ".") / app["build"]["dockerfile"]).resolve() == DOCKERFILE
    databases = {name: s for name, s in services.items() if str(s.get("image", "")).startswith("postgres")}
    [(db_name, db)] = databases.items()
    assert db["healthcheck"]["test"] and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"][db_name]["condition"] == "service_healthy"
    url = app["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://") and f"@{db_name}:" in url
    assert "healthz" not in str(app.get("healthcheck", ""))  # the image's own HEALTHCHECK is used
    assert app_name != db_name


def test_compose_keeps_secrets_out_of_the_file() -> None:
    data = compose()
    app = next(s for s in data["services"].values() if "build" in s)
    db = next(s for s in data["services"].values() if str(s.get("image", "")).startswith("postgres"))
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${"), "the password comes from the environment"
    assert app["env_file"] == "contactsync.env" and ENV_EXAMPLE.is_file()
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "contactsync.env" in ignored and "secrets/" in ignored
    assert app["environment"]["GOOGLE_APPLICATION_CREDENTIALS"].startswith("/run/secrets/")
    for name in app["secrets"]:
        assert data["secrets"][name]["file"].startswith("./secrets/")
    assert not re.search(r"xox[abp]-|xapp-|BEGIN PRIVATE KEY", COMPOSE.read_text(encoding="utf-8"))


def test_the_env_example_sets_only_placeholders() -> None:
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.lstrip("# ").strip()
        if re.match(r"^(SLACK_[A-Z_]*TOKEN|SLACK_SIGNING_SECRET)=", line):
            assert "replace-me" in line, line


# --- for real, where Docker is ----------------------------------------------------------------------------
def docker_unavailable() -> str | None:
    """None when a Docker daemon answers here; else why the build cannot be tried."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed on this machine"
    try:
        probe = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                               timeout=30)
    except subprocess.TimeoutExpired:
        return "the Docker daemon did not answer `docker info` within 30 s"
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"the Docker daemon is not reachable ({why})"
    return None


def test_the_image_builds_and_runs_as_its_user() -> None:
    reason = docker_unavailable()
    if reason is not None:
        pytest.skip(f"building the image needs Docker: {reason}")
    tag = f"contactsync-ci:{uuid.uuid4().hex[:12]}"
    try:
        built = subprocess.run(["docker", "build", "--quiet", "-t", tag, str(ROOT)], capture_output=True, text=True,
                               timeout=1800)
        assert built.returncode == 0, built.stderr[-3000:]
        inspected = subprocess.run(["docker", "image", "inspect", tag, "--format", "{{json .Config}}"],
                                   capture_output=True, text=True, check=True)
        config = json.loads(inspected.stdout)
        assert config["User"].split(":")[0] not in {"", "root", "0"}
        assert config["Cmd"] == ["contactsync", "serve"]
        assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
        whoami = subprocess.run(["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True,
                                timeout=120)
        assert whoami.returncode == 0 and whoami.stdout.strip() not in {"", "0"}, whoami.stderr
        helped = subprocess.run(["docker", "run", "--rm", tag, "contactsync", "--help"], capture_output=True,
                                text=True, timeout=120)
        assert helped.returncode == 0 and "serve" in helped.stdout, helped.stderr
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120)
