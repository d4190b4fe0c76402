"""Reading data and metrics back: check-data, compare (paired tests), and the data-quality history."""
