"""Planning: from a target, a selection and partitions to the nodes a run executes."""
