"""Running steps on Celery workers: the app's settings, the coordinator's side, the worker's task."""
