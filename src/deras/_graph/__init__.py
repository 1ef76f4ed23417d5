"""The one compiled graph that assets, checks and tasks all lower to."""
