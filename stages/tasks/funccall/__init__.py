"""EdgeFuncCall: a request and the tools offered to JSON function calls, scored by BFCL's AST rules. Its scoring, BFCL conversion, prompt and metrics."""
