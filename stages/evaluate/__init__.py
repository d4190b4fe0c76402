"""Scoring a model, the model card and the release report."""
