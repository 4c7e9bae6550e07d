# The edgesla image used by deploy/kubernetes: `edgesla exporter`, `edgesla scrape-config`,
# `edgesla report`, and Locust master/worker processes of loadtests/edge_pop.py.
# Runs as the non-root user 10001 and works with a read-only root filesystem (writes only
# to /tmp and mounted volumes).
#   docker build -t registry.example.net/edgesla/edgesla:0.1.0 .
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY probes ./probes
COPY exporters ./exporters
COPY loadtests ./loadtests
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    PIP_NO_CACHE_DIR=1
RUN groupadd --gid 10001 edgesla \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin edgesla
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels edgesla && rm -rf /wheels
USER 10001:10001
EXPOSE 9830 9831 5557
ENTRYPOINT ["edgesla"]
CMD ["--help"]
