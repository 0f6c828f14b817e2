"""chainbreaker: investigation and screening platform against cross-border gambling (跨境赌博)."""

__version__ = "0.1.0"
