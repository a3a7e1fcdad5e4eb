"""The sharded training system: state, step, loop, checkpoints, logging."""
