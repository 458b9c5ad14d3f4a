# FamilyBot in a container: `docker compose up -d --build` (see docker-compose.yml and README).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/familybot.db \
    BACKUP_DIR=/data/backups

# pg_dump / pg_restore for `familybot backup` and `restore` on PostgreSQL (DATABASE_URL):
# bookworm's are version 15, the same as the postgres:15 service in docker-compose.yml.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY familybot ./familybot
COPY cogs ./cogs
RUN pip install . && rm -rf /app/build

# The bot runs as an unprivileged user that owns only /data (database and backups).
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home familybot \
    && mkdir -p /data/backups \
    && chown -R familybot:familybot /data
USER familybot
WORKDIR /data
VOLUME ["/data"]

# `familybot check` exits 0 when the token is well-formed and the database passes its
# integrity check (it needs DISCORD_TOKEN, which compose passes in from .env).
HEALTHCHECK --interval=5m --timeout=30s --start-period=30s --retries=3 \
    CMD ["familybot", "check"]

# SIGTERM (docker stop) shuts the bot down cleanly.
STOPSIGNAL SIGTERM
CMD ["familybot", "run"]
