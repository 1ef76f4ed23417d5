"""Task-centric workflows: DAGs, operators, TaskFlow tasks — lowered to the same graph as assets."""
