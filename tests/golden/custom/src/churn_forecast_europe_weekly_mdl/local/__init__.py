"""Laptop-only code: the local pipeline, the sample data and the Spark class archive.

Left out of the wheel the clusters get (see pyproject.toml), so no module outside this folder
imports it.
"""
