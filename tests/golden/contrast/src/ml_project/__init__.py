"""The code of every pipeline step, built into the wheel that the bundle deploys and the jobs run.

Layout, imports flowing one way (local -> steps -> shared modules):
- shared modules here: config (workspace or laptop), naming, params, spark, tracking (MLflow),
  problem (columns, estimator, metrics, the gate), data, errors;
- steps, one entry point each (pyproject.toml [project.scripts], run by resources/jobs.yml):
  feature_engineering, training (train, evaluate), inference, monitoring;
- local: laptop-only code (the local pipeline, sample data, the Spark class archive), left out
  of the wheel.
"""
