"""Demo data: the real sample and a handful of items written in the same spirit."""
