"""The generic stages: one prepare, validate, split, train, quantize, evaluate and card module for
every task that provides the pipeline's parts of the task interface (stages/tasks/registry.py:
PIPELINE_PARTS). Each looks the task up by name and calls its parts; none asks which task it runs.
"""
