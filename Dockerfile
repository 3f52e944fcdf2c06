# syntax=docker/dockerfile:1
# The dashboard, as the README runs it: `python -m streamlit run app.py`.
#   docker build -t npd-shares .
#   docker run -p 8501:8501 -v npd-db:/app/db npd-shares
# The DuckDB file lives in the /app/db volume ($NPD_DB), apart from the bundled data in
# /app/data (synonyms, reference lists, sample releases) so a volume never hides them; on
# first start it is built from the bundled sample releases in data/sample.
# Ingest real releases with the same image:
#   docker run -v npd-db:/app/db -v "$PWD/releases:/releases:ro" --entrypoint python \
#     npd-shares -m extract /releases
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 app && mkdir /app/db && chown 10001:10001 /app/db
ENV NPD_DB=/app/db/npd_register.duckdb

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=10001:10001 . .
USER 10001:10001

EXPOSE 8501
VOLUME ["/app/db"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=3).status == 200 else 1)"]

ENTRYPOINT ["python", "-m", "streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true", "--browser.gatherUsageStats=false"]
