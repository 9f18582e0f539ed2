# RFM dashboard: Streamlit on a slim Python, as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 rfm
WORKDIR /app

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
