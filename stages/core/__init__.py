"""The ground floor: params, records (atomic writes), errors, the schema catalog, metric paths, statistics. Imports nothing above it."""
