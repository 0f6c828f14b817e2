"""chains layer."""
