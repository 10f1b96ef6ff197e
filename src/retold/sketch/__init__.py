"""sketch stage."""
