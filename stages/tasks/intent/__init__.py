"""EdgeIntent: a query to one intent label (BANKING77, CLINC150 with out-of-scope). Its row format, readers and data checks."""
