"""Execution: one attempt of one node, and executors that run a plan."""
