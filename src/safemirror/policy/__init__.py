"""The data policy: which columns move, and how."""
