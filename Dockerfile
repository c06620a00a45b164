# iati-ec service image: the API on $IATI_EC_PORT (8000), SQLite under /data unless
# DATABASE_URL is set. The base is pinned to an exact release; the service and its
# dependencies are installed from requirements.lock (exact versions, hashes checked) and
# the project's own wheel, migrations inside, so nothing depends on the working directory.
FROM python:3.11.13-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY iati ./iati
COPY mappings ./mappings
COPY service ./service
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IATI_EC_HOST=0.0.0.0 \
    IATI_EC_PORT=8000 \
    DATABASE_URL=sqlite:////data/iati-ec.db
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && pip install --no-cache-dir --no-deps /wheels/*.whl \
    && rm -rf /wheels /tmp/requirements.lock \
    && useradd --system --uid 10001 iati-ec \
    && mkdir -p /data && chown iati-ec /data

USER iati-ec
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# The service migrates the database before it listens: give it time on a first start.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('IATI_EC_PORT', '8000'), timeout=4)"
CMD ["iati-ec", "serve"]
