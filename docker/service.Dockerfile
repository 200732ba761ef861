# The prediction service: `mlops serve` (BentoML) on port 3000, the champion loaded from MLflow.
# The same image runs the one-shot `mlops db upgrade`, the MLflow server and `mlops loadtest` in
# docker-compose.yml (mlflow is one of the package's dependencies).
#
#   docker build -f docker/service.Dockerfile -t advanced-mlops-service .
#
# Configuration is environment only (MLOPS_DB_URL, MLFLOW_TRACKING_URI, MLOPS_SERVE_WORKERS, ...;
# see .env.example); no file of the checkout but the package is in the image.
#
# PYTHON_BASE is any Debian-like image with Python >= 3.11 (and `venv`) whose interpreter is
# PYTHON on the PATH; builder and runtime must share it, because the venv links to it.
# docker/images-smoke.sh builds on an offline-made Debian base (Python 3.11) this way.
ARG PYTHON_BASE=python:3.12.8-slim-bookworm

FROM ${PYTHON_BASE} AS uv
ARG PYTHON=python3
ARG UV_VERSION=0.13.9
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Bytecode compiled once at build time (faster start); copy mode (no hard links into a cache);
# never download a Python: the base's interpreter is the one the runtime stage has.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=${PYTHON} \
    UV_NO_CACHE=1
# uv itself, pinned, from PyPI (ghcr.io/astral-sh/uv:${UV_VERSION} has the same binary; PyPI is
# used so that a machine that reaches only PyPI can build this). Not copied to the runtime.
RUN "${PYTHON}" -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
WORKDIR /build

# The runtime dependencies exactly as uv.lock pins them, with its hashes (`uv export --frozen
# --no-dev`: what `uv sync --frozen --no-dev` would install). The next stage copies the list:
# Docker compares its content, so a lock change that does not touch them (a dev tool, say) does
# not reinstall them.
FROM uv AS lock
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv export --frozen --no-dev --no-emit-project --output-file requirements.txt >/dev/null

FROM uv AS dependencies
COPY --from=lock /build/requirements.txt ./
RUN /opt/uv/bin/uv venv /opt/venv \
    && /opt/uv/bin/uv pip install --python /opt/venv/bin/python --require-hashes \
        --requirements requirements.txt

# The package as a regular (non-editable) wheel with its data contracts and migrations, without
# dependencies (all installed above). Its installed files are then staged under /opt/project
# with their absolute paths, so that the runtime stage adds them on top of the dependencies in a
# small layer of their own: a source change rebuilds only that layer.
# The build context has no .git: VERSION (docker/build-args.sh) is the version hatch-vcs builds.
FROM dependencies AS project
ARG VERSION=""
COPY pyproject.toml README.md ./
COPY src/ src/
COPY data_contracts/ data_contracts/
RUN SETUPTOOLS_SCM_PRETEND_VERSION="${VERSION}" \
        /opt/uv/bin/uv pip install --python /opt/venv/bin/python --no-deps . \
    && /opt/venv/bin/mlops --help >/dev/null \
    && site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && mkdir -p "/opt/project${site}" /opt/project/opt/venv/bin \
    && cp -a "${site}/advanced_mlops" "${site}"/advanced_mlops-*.dist-info "/opt/project${site}/" \
    && cp -a /opt/venv/bin/mlops /opt/project/opt/venv/bin/

FROM ${PYTHON_BASE} AS runtime
ARG APP_UID=10001
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN groupadd --system --gid "${APP_UID}" mlops \
    && useradd --system --uid "${APP_UID}" --gid mlops --home-dir /home/mlops --create-home \
        --shell /usr/sbin/nologin mlops \
    && mkdir -p /var/lib/mlops \
    && chown mlops:mlops /var/lib/mlops
COPY --from=dependencies /opt/venv /opt/venv
COPY --from=project /opt/project/ /
# MLOPS_HOME holds the prediction journal (and artifacts of file-based stores): mount a volume
# there so that rows journaled while the database was down survive a restart.
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MLOPS_HOME=/var/lib/mlops \
    BENTOML_HOME=/var/lib/mlops/bentoml \
    GX_ANALYTICS_ENABLED=false
USER ${APP_UID}:${APP_UID}
WORKDIR /var/lib/mlops
EXPOSE 3000
# /readyz answers 200 once a worker has loaded the champion (BentoML's readiness, see
# CreditScoreService.__is_ready__). Python, not curl: slim bases have no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/readyz', timeout=4)"]
CMD ["mlops", "serve"]
# What is running, readable without starting it (docker/build-args.sh gives the values). Last:
# a build argument invalidates every later layer, and the commit changes with each build.
ARG VERSION=""
ARG COMMIT=""
ARG UV_LOCK_SHA256=""
LABEL org.opencontainers.image.title="advanced-mlops-service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      dev.advanced-mlops.uv-lock.sha256="${UV_LOCK_SHA256}"
