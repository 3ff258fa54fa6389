# ContactSync: the Slack bot and its scheduler (`contactsync serve`) in one process.
#
#   docker build -t contactsync .
#   docker run --env-file contactsync.env -v "$PWD/secrets:/run/secrets:ro" -p 3000:3000 contactsync
#
# Nothing secret is baked in: the service-account key, the Slack tokens and the database URL come from the
# environment at run time (see compose.yaml and contactsync.env.example). docs/operations.md is the runbook.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The service runs as an unprivileged user with a fixed uid, so files handed to it (the key) can be made
# readable by that uid alone.
RUN groupadd --system --gid 10001 contactsync \
 && useradd --system --uid 10001 --gid contactsync --home-dir /var/lib/contactsync --create-home \
        --shell /usr/sbin/nologin contactsync

# Install the package from the repository into its own virtual environment; the sources are dropped after.
WORKDIR /tmp/contactsync-src
COPY pyproject.toml README.md ./
COPY sync_core ./sync_core
COPY bot ./bot
COPY contactsync ./contactsync
COPY emulator ./emulator
COPY slack_double ./slack_double
RUN python -m venv /opt/contactsync \
 && /opt/contactsync/bin/pip install . \
 && rm -rf /tmp/contactsync-src

# /healthz, /readyz and /metrics are served on PORT (in Socket Mode only when PORT is set, so it is set).
ENV PATH=/opt/contactsync/bin:$PATH \
    PORT=3000

# The working directory is the user's own: a `.env` mounted here is read, and a SQLite trial database
# (no DATABASE_URL) is written here. Use PostgreSQL for anything else.
WORKDIR /var/lib/contactsync
USER 10001:10001
EXPOSE 3000

# Liveness: the process answers /healthz (readiness, /readyz, is for a load balancer: it also asks the
# database and Slack). The slim image has no curl; Python is there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)" || exit 1

# SIGTERM lets the runs in flight finish their current targets (CONTACTSYNC_SCHEDULER_SHUTDOWN_TIMEOUT_SECONDS,
# 60 s): give the container longer than that to stop (compose.yaml's stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["contactsync", "serve"]
