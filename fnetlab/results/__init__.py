"""Results: read workdirs, aggregate over seeds, write CSV/markdown tables (per task, LRA, GLUE) and plots."""
