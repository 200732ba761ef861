# Airflow 3 with this project: the official image + the `advanced_mlops` package (the DAGs' tasks
# import it) + dags/ in the image's DAG folder. One image for every Airflow service of
# docker-compose.yml (api-server, scheduler, dag-processor, triggerer, celery workers, init).
#
#   docker build -f docker/airflow.Dockerfile -t advanced-mlops-airflow .
#
# How the package's dependencies are installed (and why):
#   The requirements stage exports uv.lock with the `airflow` extra (`uv export --frozen
#   --extra airflow`): every package pinned, with its hashes, to the version CI tests with,
#   apache-airflow==3.3.2 and the Celery provider (the compose file's `celery` profile) included.
#   That lock was resolved against apache-airflow 3.3.2's own
#   requirements, so it is compatible with it by construction; it is simply a stricter set than
#   Airflow's generic constraints file (this project's pins win where both name a package).
#   The final stage installs that list into the image's Python environment: on the official base
#   Airflow 3.3.2 is already there and is kept (the pin matches; a base with another version is
#   refused below), only what the project adds or pins differently is installed. The project
#   itself is then installed as a wheel with --no-deps (its dependencies are all in the list).
#   Packages of the official image that the lock does not know (its other providers) are left
#   as they are; `uv pip check` reports any conflict with them (see PIP_CHECK).
#
# Bases (AIRFLOW_BASE):
#   apache/airflow:3.3.2-python3.12 (default): Airflow preinstalled in the venv
#     /home/airflow/.local, user `airflow` (50000, group 0), AIRFLOW_HOME=/opt/airflow.
#   any Debian-like image with Python >= 3.11 and `venv`, with INSTALL_AIRFLOW=true: the same
#     layout is made here and Airflow 3.3.2 comes from the exported lock. docker/images-smoke.sh
#     builds it that way on an offline-made base, where no registry can be reached. That base has
#     no /entrypoint (the official image's): commands are then run as `airflow ...` directly.
ARG AIRFLOW_BASE=apache/airflow:3.3.2-python3.12

FROM ${AIRFLOW_BASE} AS requirements
ARG PYTHON=python3
ARG UV_VERSION=0.13.9
ARG AIRFLOW_UID=50000
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=${PYTHON} \
    UV_NO_CACHE=1 \
    PIP_USER=0
# uv, pinned, from PyPI (same binary as ghcr.io/astral-sh/uv:${UV_VERSION}). Everything under
# /tmp, made by the base's user (`airflow` on the official image, root on a plain one), which
# runs this build-only stage.
RUN "${PYTHON}" -m venv /tmp/uv \
    && /tmp/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}" \
    && mkdir -p /tmp/build
WORKDIR /tmp/build
COPY --chown=${AIRFLOW_UID}:0 pyproject.toml uv.lock README.md ./
RUN /tmp/uv/bin/uv export --frozen --no-dev --extra airflow --no-emit-project \
        --output-file requirements.txt >/dev/null
COPY --chown=${AIRFLOW_UID}:0 src/ src/
COPY --chown=${AIRFLOW_UID}:0 data_contracts/ data_contracts/
# The build context has no .git: VERSION (docker/build-args.sh) is the version hatch-vcs builds.
ARG VERSION=""
RUN SETUPTOOLS_SCM_PRETEND_VERSION="${VERSION}" /tmp/uv/bin/uv build --wheel --out-dir /tmp/build/dist

FROM ${AIRFLOW_BASE}
# true: the base has no Airflow (e.g. plain Debian); make the official image's layout and install
# Airflow from the lock. false: use the base's preinstalled Airflow (must be AIRFLOW_VERSION).
ARG INSTALL_AIRFLOW=false
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON=python3
ARG AIRFLOW_UID=50000
# strict: a dependency conflict fails the build. warn: it is printed (for bases that bring
# packages the lock does not know, such as the official image's many providers).
ARG PIP_CHECK=warn
USER 0
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN if [ "${INSTALL_AIRFLOW}" = "true" ]; then \
        useradd --uid "${AIRFLOW_UID}" --gid 0 --home-dir /home/airflow --create-home \
            --shell /bin/bash airflow \
        && "${PYTHON}" -m venv /home/airflow/.local \
        && mkdir -p /opt/airflow/dags /opt/airflow/logs \
        && chown -R "${AIRFLOW_UID}:0" /home/airflow /opt/airflow; \
    fi \
    && mkdir -p /opt/airflow/auth /opt/airflow/mlops \
    && chown "${AIRFLOW_UID}:0" /opt/airflow/auth /opt/airflow/mlops \
    && chmod 0770 /opt/airflow/auth /opt/airflow/mlops
COPY --from=requirements /tmp/uv/bin/uv /usr/local/bin/uv
COPY --from=requirements /tmp/build/requirements.txt /opt/mlops-dist/
ENV AIRFLOW_HOME=/opt/airflow \
    VIRTUAL_ENV=/home/airflow/.local \
    PATH=/home/airflow/.local/bin:${PATH} \
    AIRFLOW__CORE__LOAD_EXAMPLES=false \
    GX_ANALYTICS_ENABLED=false \
    MLOPS_HOME=/opt/airflow/mlops \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never
# No bytecode compilation (uv would compile the whole environment, the official image's included,
# which ships without .pyc files to stay small).
USER ${AIRFLOW_UID}
RUN venv_python=/home/airflow/.local/bin/python \
    && installed="$("${venv_python}" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))' 2>/dev/null || true)" \
    && if [ "${INSTALL_AIRFLOW}" != "true" ] && [ "${installed}" != "${AIRFLOW_VERSION}" ]; then \
        echo "AIRFLOW_BASE has Airflow '${installed:-none}', this project is locked to ${AIRFLOW_VERSION}:" \
             "use apache/airflow:${AIRFLOW_VERSION}-pythonX.Y, or INSTALL_AIRFLOW=true on a plain base" >&2; \
        exit 1; \
    fi \
    && grep -Eq "^apache-airflow==${AIRFLOW_VERSION}( |$)" /opt/mlops-dist/requirements.txt \
    && uv pip install --python "${venv_python}" --requirements /opt/mlops-dist/requirements.txt
# The project's wheel in a layer of its own: a source change does not reinstall the dependencies.
COPY --from=requirements /tmp/build/dist/ /opt/mlops-dist/
RUN uv pip install --python /home/airflow/.local/bin/python --no-deps /opt/mlops-dist/*.whl \
    && if ! uv pip check --python /home/airflow/.local/bin/python; then \
        echo "uv pip check found conflicts (PIP_CHECK=${PIP_CHECK})" >&2; \
        [ "${PIP_CHECK}" != "strict" ]; \
    fi \
    && airflow version
COPY docker/airflow-healthcheck.sh /usr/local/bin/airflow-healthcheck
COPY --chown=${AIRFLOW_UID}:0 dags/ /opt/airflow/dags/
WORKDIR /opt/airflow
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=60s --start-period=60s --retries=5 \
    CMD ["bash", "/usr/local/bin/airflow-healthcheck"]
# What is running, readable without starting it (docker/build-args.sh gives the values). Last:
# a build argument invalidates every later layer (the dependencies' too), and the commit changes
# with each build.
ARG VERSION=""
ARG COMMIT=""
ARG UV_LOCK_SHA256=""
LABEL org.opencontainers.image.title="advanced-mlops-airflow" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      dev.advanced-mlops.uv-lock.sha256="${UV_LOCK_SHA256}"
