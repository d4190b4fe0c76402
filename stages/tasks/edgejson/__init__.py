"""EdgeJSON: text to schema-valid JSON. Its checks, row templates, recipe checks, scoring and failure kinds."""
