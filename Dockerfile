# billing-bot in HTTP mode: `billing-bot serve` on port 3000 (POST /slack/events, the probes
# GET /livez, /readyz, /healthz, and GET /metrics).
#
#   docker build -t billing-bot .
#   docker run --rm -p 3000:3000 --env-file .env billing-bot
#
# Configuration comes from the environment (secrets also as files: SECRETS_DIR or <NAME>_FILE;
# see docs/deployment.md); no secret is baked into the image, and .dockerignore keeps `.env`
# out of the build context.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Install the locked dependencies (hashes checked), then the package without resolving again,
# then drop the sources.
WORKDIR /src
COPY requirements.txt ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && rm -rf /src

# Run as an unprivileged user with a fixed UID (so `runAsNonRoot` policies can check it).
RUN groupadd --system --gid 10001 billing \
    && useradd --system --uid 10001 --gid billing --home-dir /app --create-home \
       --shell /usr/sbin/nologin billing
WORKDIR /app
USER 10001:10001

EXPOSE 3000

# Liveness: /livez (the process serves), never /readyz or /healthz, which fail while Redis is
# down: an orchestrator that replaces unhealthy containers (Swarm) would then replace every
# replica at once, which brings no Redis back. python, not curl (the slim image has none); no
# proxy for a loopback request. Socket Mode: HEALTH_PORT=3000 HEALTH_HOST=0.0.0.0.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:3000/livez', timeout=4)"]

# SIGTERM (Docker's default stop signal) goes straight to the bot: exec form, no shell.
CMD ["billing-bot", "serve", "--host", "0.0.0.0", "--port", "3000"]
