"""Forecasting: deals in, weighted amounts, categories and explanations out."""
