"""Value types shared by every layer: keys, events, statuses, errors, metadata."""
