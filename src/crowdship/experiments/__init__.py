"""Experiments: the paper's Figures 5 and 6 and sweeps past them, run on local processes or
a Dask cluster, summarised as CSV tables and PNG plots."""
