# iati-ec service image: the API on port 8000, SQLite under /data unless DATABASE_URL is set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IATI_EC_HOST=0.0.0.0 \
    IATI_EC_PORT=8000 \
    DATABASE_URL=sqlite:////data/iati-ec.db

WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY iati ./iati
COPY mappings ./mappings
COPY service ./service
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 iati-ec \
    && mkdir -p /data && chown iati-ec /data

USER iati-ec
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["iati-ec", "serve"]
