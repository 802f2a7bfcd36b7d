"""Pieces shared by every step of the pipeline: environment, naming, parameters, Spark, MLflow.

Each step notebook (features, train, evaluate, batch inference) imports from here, so that the
differences between a Databricks workspace and a laptop live in one place: `common.config`.
"""
