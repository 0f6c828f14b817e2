"""Command-line face (Typer): thin commands over the chains' service functions."""
