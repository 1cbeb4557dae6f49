"""AST → AST rewrites ("decisions"): placeholders, validation, function mapping, comparisons, guards, limits."""
