"""gunicorn settings for the Procfile's web process (`gunicorn -c python:topleft.gunicorn_conf`)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30
accesslog = "-"  # one line per request on stdout, webhook URL tokens redacted
logger_class = "topleft.gunicorn_logging.RedactingLogger"
