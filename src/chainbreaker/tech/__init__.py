"""tech."""
