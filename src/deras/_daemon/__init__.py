"""The daemon: scheduling, run launching and notifications, driven one tick at a time."""
