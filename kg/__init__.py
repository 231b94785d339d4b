"""diplograph: multilingual news about diplomacy -> a knowledge graph of meetings."""

__version__ = "0.1.0"
