# syntax=docker/dockerfile:1
# Build wheels in one stage, install them into a slim image with a non-root user and no build tools.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY posthog_clone posthog_clone
COPY capture capture
COPY ingestion ingestion
COPY definitions definitions
COPY exports exports
COPY file_system file_system
COPY query query
COPY flags flags
COPY persons persons
COPY openapi openapi
COPY actions actions
COPY cohorts cohorts
COPY insights insights
COPY dashboards dashboards
COPY annotations annotations
COPY surveys surveys
COPY sdk_assets sdk_assets
COPY replay replay
COPY experiments experiments
COPY console console
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/posthog-clone
RUN useradd --create-home --uid 10001 app && mkdir -p /var/lib/posthog-clone/metrics && chown -R app /var/lib/posthog-clone
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
# posthog-js's files for /static/, fetched at build time (pinned version, checked against its sha512), kept
# outside VAR_DIR so a volume mounted there does not hide them
ENV SDK_ASSETS_DIR=/opt/posthog-js
RUN python -m sdk_assets.fetch /opt/posthog-js
# the console's pinned libraries (Chart.js, htmx, rrweb-player), the same way
ENV CONSOLE_VENDOR_DIR=/opt/console-vendor
RUN python -m console.vendor /opt/console-vendor
WORKDIR /app
COPY --chown=app manage.py ./
USER app
EXPOSE 8000
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
