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
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/posthog-clone
RUN useradd --create-home --uid 10001 app && mkdir -p /var/lib/posthog-clone/metrics && chown -R app /var/lib/posthog-clone
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
WORKDIR /app
COPY --chown=app manage.py ./
USER app
EXPOSE 8000
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
