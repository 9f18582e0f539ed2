# RFM dashboard: Streamlit on a slim Python, as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 rfm \
    && mkdir -p /var/lib/rfm && chown rfm:rfm /var/lib/rfm
WORKDIR /app
# what must outlive the container: the published runs and the key that signs their models (a
# new key would refuse every saved model and run); mount a volume here. Secrets ([auth], [roles])
# are mounted at /app/.streamlit/secrets.toml, the data folder at /data (read-only is enough).
ENV RFM_STORE=/var/lib/rfm/runs.duckdb \
    RFM_BUNDLE_KEY_FILE=/var/lib/rfm/bundle.key \
    RFM_DATA_DIR=/data
VOLUME ["/var/lib/rfm"]

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=rfm:rfm .streamlit/ .streamlit/
COPY --chown=rfm:rfm rfm_core/ rfm_core/
COPY --chown=rfm:rfm ui/ ui/
COPY --chown=rfm:rfm pages/ pages/
COPY --chown=rfm:rfm assets/ assets/
COPY --chown=rfm:rfm app.py .

USER rfm
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD python -c "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4); sys.exit(0 if r.read() == b'ok' else 1)"

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
