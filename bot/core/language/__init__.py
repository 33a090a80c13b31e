"""The command language: typed commands, their grammar, and plain phrasings."""
